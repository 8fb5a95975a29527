#!/bin/bash
# Trains the 8-channel ToyWorld LDM (models/toyworld-ldm8) through the rest of its recipe, one stage after the
# other; run it again after any stop and it goes on where it was. Each stage resumes from runs/<stage> while this
# machine keeps runs/, and its export goes over models/toyworld-ldm8, which should be committed at once: the file
# models/toyworld-ldm8/training-stage.txt (committed with the weights) says which stage the folder holds, so a new
# machine without runs/ starts the next stage from the committed folder instead of repeating one.
#
#   scripts/toyworld-ldm8.sh            # two libtorch threads (THREADS=1 beside another job)
#   LDM4J=/path/to/launcher scripts/toyworld-ldm8.sh   # a frozen copy of the CLI: editing sources meanwhile triggers no rebuild
#
# Stages (configs/train/): 1 toyworld-ldm8.json (6000 steps from scratch), 2 toyworld-ldm8-stage2.json (6000 more,
# init the folder), 3 toyworld-ldm8-objects.json (3000 object-balanced steps, init the folder), 4 the decoder-only
# fine-tune toyworld-vae8-decoder.json (encoder frozen, so the UNet's latents do not change) into the folder's vae/.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=models/toyworld-ldm8
STAGE_FILE=$MODEL/training-stage.txt
THREADS=${THREADS:-2}
LDM4J=${LDM4J:-./ldm4j}
stage=$(cat "$STAGE_FILE" 2>/dev/null || echo 0)

finish() { # stage number just exported
  echo "$1" > "$STAGE_FILE"
  stage=$1
  echo "toyworld-ldm8: stage $1 exported to $MODEL (commit it)"
}

ldm_stage() { # number, config, run folder
  if [ "$stage" -ge "$1" ]; then echo "toyworld-ldm8: stage $1 ($2) is in $MODEL"; return; fi
  if [ "$stage" -ne $(($1 - 1)) ]; then echo "toyworld-ldm8: $MODEL holds stage $stage, stage $1 needs stage $(($1 - 1))" >&2; exit 1; fi
  $LDM4J train ldm --config "$2" --run "$3" --vae models/toyworld-vae8 --threads "$THREADS"
  $LDM4J train ldm --config "$2" --run "$3" --vae models/toyworld-vae8 --threads "$THREADS" --export "$MODEL"
  finish "$1"
}

ldm_stage 1 configs/train/toyworld-ldm8.json runs/toyworld-ldm8
ldm_stage 2 configs/train/toyworld-ldm8-stage2.json runs/toyworld-ldm8-stage2
ldm_stage 3 configs/train/toyworld-ldm8-objects.json runs/toyworld-ldm8-objects
if [ "$stage" -lt 4 ]; then
  $LDM4J train vae --config configs/train/toyworld-vae8-decoder.json --run runs/toyworld-vae8-decoder --threads "$THREADS"
  $LDM4J train vae --config configs/train/toyworld-vae8-decoder.json --run runs/toyworld-vae8-decoder --threads "$THREADS" --export "$MODEL/vae"
  finish 4
fi
echo "toyworld-ldm8: recipe complete; measure it with $LDM4J eval model --model $MODEL --n 128"
