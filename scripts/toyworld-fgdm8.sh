#!/bin/bash
# Trains the FG-DM graph on the 8-channel ToyWorld LDM (models/toyworld-ldm8) into models/toyworld-fgdm8, the layout
# of the committed own-UNet graph (models/toyworld-fgdm-unet): a segmentation factor with a UNet of its own, an image
# ControlNet on 64x64 maps and a map decoder. The 4-channel graph's agreement is lost in the decoded image (its VAE
# reads flowers, boats and rocks back poorly); this graph measures what the 8-channel autoencoder changes.
# Run it again after any stop and it goes on where it was: each step resumes from runs/<step> while this machine
# keeps runs/, and models/toyworld-fgdm8/training-stage.txt (commit it with each export) says which steps the
# folder holds. Needs models/toyworld-ldm8 at stage 3 or later (its UNet and encoder final; stage 4 changes only
# its decoder).
#
#   scripts/toyworld-fgdm8.sh            # two libtorch threads (THREADS=1 beside another job)
#   LDM4J=/path/to/launcher scripts/toyworld-fgdm8.sh   # a frozen copy of the CLI: editing sources meanwhile triggers no rebuild
#
# Steps (configs/train/): 1 toyworld-fgdm8-image.json (the ControlNet, 3000 steps), 2 toyworld-fgdm8-seg-unet.json
# (the root factor, 2500 steps), 3 toyworld-map-decoder8.json (the map decoder, 3000 steps, into map_vae/, which
# `train vae --export` names in fgdm.json), 4 toyworld-fgdm8-image-stage2.json (the ControlNet's second stage, 3000
# steps from step 1's export, which it replaces), 5 toyworld-fgdm8-seg-unet-stage2.json (the root factor's second
# stage, 2500 steps from step 2's export, which it replaces), 6 toyworld-fgdm8-seg-unet-stage3.json (the root factor's
# third stage, 2500 steps from step 5's export at half the learning rate, which it replaces), 7
# toyworld-fgdm8-image-stage3.json (the ControlNet's third stage, 2000 steps from step 4's export at half its learning
# rate, which it replaces), 8 toyworld-fgdm8-image-decoder.json (2000 steps from step 7's ControlNet with the base
# UNet's decoder unlocked, ControlNet's sd_locked=False: the ControlNet is replaced and the trained UNet is written to
# image/unet/, which fgdm.json's "unet" names), 9 toyworld-fgdm8-image-decoder-stage2.json (its second stage, 2500
# steps from step 8's export, which it replaces), 10 toyworld-fgdm8-image-decoder-stage3.json (its third stage, 2500
# steps from step 9's export at half the learning rate, which it replaces). Then:
#   ./ldm4j eval fgdm control --model models/toyworld-fgdm8 --n 50 --map-size 64
#   ./ldm4j eval fgdm fidelity --model models/toyworld-fgdm8 --n 100
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=models/toyworld-ldm8
GRAPH=models/toyworld-fgdm8
STAGE_FILE=$GRAPH/training-stage.txt
THREADS=${THREADS:-2}
LDM4J=${LDM4J:-./ldm4j}
if [ "$(cat "$BASE/training-stage.txt" 2>/dev/null || echo 0)" -lt 3 ]; then
  echo "toyworld-fgdm8: $BASE is not trained to stage 3 yet (scripts/toyworld-ldm8.sh)" >&2; exit 1
fi
stage=$(cat "$STAGE_FILE" 2>/dev/null || echo 0)

finish() { # step number just exported
  echo "$1" > "$STAGE_FILE"
  stage=$1
  echo "toyworld-fgdm8: step $1 exported to $GRAPH (commit it)"
}

factor_step() { # number, factor, config, run folder
  if [ "$stage" -ge "$1" ]; then echo "toyworld-fgdm8: step $1 ($3) is in $GRAPH"; return; fi
  $LDM4J train fgdm --factor "$2" --config "$3" --run "$4" --base "$BASE" --threads "$THREADS"
  $LDM4J train fgdm --factor "$2" --config "$3" --run "$4" --base "$BASE" --threads "$THREADS" --export "$GRAPH"
  finish "$1"
}

factor_step 1 image configs/train/toyworld-fgdm8-image.json runs/toyworld-fgdm8-image
factor_step 2 seg configs/train/toyworld-fgdm8-seg-unet.json runs/toyworld-fgdm8-seg-unet
if [ "$stage" -lt 3 ]; then
  $LDM4J train vae --config configs/train/toyworld-map-decoder8.json --run runs/toyworld-map-decoder8 --threads "$THREADS"
  $LDM4J train vae --config configs/train/toyworld-map-decoder8.json --run runs/toyworld-map-decoder8 --threads "$THREADS" --export "$GRAPH/map_vae"
  finish 3
fi
factor_step 4 image configs/train/toyworld-fgdm8-image-stage2.json runs/toyworld-fgdm8-image-stage2
factor_step 5 seg configs/train/toyworld-fgdm8-seg-unet-stage2.json runs/toyworld-fgdm8-seg-unet-stage2
factor_step 6 seg configs/train/toyworld-fgdm8-seg-unet-stage3.json runs/toyworld-fgdm8-seg-unet-stage3
factor_step 7 image configs/train/toyworld-fgdm8-image-stage3.json runs/toyworld-fgdm8-image-stage3
factor_step 8 image configs/train/toyworld-fgdm8-image-decoder.json runs/toyworld-fgdm8-image-decoder
factor_step 9 image configs/train/toyworld-fgdm8-image-decoder-stage2.json runs/toyworld-fgdm8-image-decoder-stage2
factor_step 10 image configs/train/toyworld-fgdm8-image-decoder-stage3.json runs/toyworld-fgdm8-image-decoder-stage3
echo "toyworld-fgdm8: graph complete; measure it with $LDM4J eval fgdm fidelity --model $GRAPH --n 100"
