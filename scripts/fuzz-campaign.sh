#!/bin/bash
# The long fuzzing campaign of docs/reliability.md: each target until it has run GOAL executions (summed over
# runs of at most 25 minutes, which continue from Jazzer's corpus in <module>/.cifuzz-corpus) or found something.
# A finding stops that target: its input is in src/test/resources/.../<Class>Inputs/<method>/crash-*, replayed by
# every build from then on; fix it and run the target again (the totals in runs/fuzz/ carry over).
#
#   scripts/fuzz-campaign.sh                       # every target, 10.2 M executions each
#   GOAL=1000000 scripts/fuzz-campaign.sh ldm4j-engine:PngParametersFuzzTest
#
# Prints one line per run to runs/fuzz/campaign.out; logs in runs/fuzz/log-<target>-<time>.log.
set -u
GOAL=${GOAL:-10200000}
cd "$(dirname "$0")/.."
OUT=runs/fuzz
mkdir -p $OUT
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(ldm4j-engine:SafetensorsFileFuzzTest ldm4j-engine:TorchCheckpointFuzzTest#pickleInValidZip
           ldm4j-engine:TorchCheckpointFuzzTest#rawFile ldm4j-engine:DiffusersConfigFuzzTest ldm4j-engine:CLIPTokenizerFuzzTest#loadAndEncode
           ldm4j-engine:CLIPTokenizerFuzzTest#loadTokenizerJsonAndEncode ldm4j-engine:PngParametersFuzzTest
           ldm4j-engine:ImagesFuzzTest ldm4j-studio:JobRequestFuzzTest)
fi
for t in "${TARGETS[@]}"; do
  mod=${t%%:*}; test=${t#*:}
  name=$(echo "$test" | tr '#' '_')
  total=$(cat $OUT/total-$name 2>/dev/null || echo 0); secs=$(cat $OUT/secs-$name 2>/dev/null || echo 0)
  rate=1000; run=0
  while [ "$total" -lt "$GOAL" ]; do
    run=$((run + 1))
    dur=$(( (GOAL - total) / rate + 20 )); [ $dur -gt 1500 ] && dur=1500
    [ $run -eq 1 ] && [ $dur -gt 30 ] && dur=30   # the first run measures the target's rate
    log=$OUT/log-$name-$(date +%H%M%S).log
    ./mvnw -B -o -ntp -P fuzz-long -pl "$mod" test -Dtest="$test" -Dfuzz.duration=${dur}s -Dsurefire.failIfNoSpecifiedTests=false > "$log" 2>&1
    done_line=$(grep -a -E '^Done [0-9]+ runs' "$log" | tail -1)
    n=$(echo "$done_line" | awk '{print $2}'); s=$(echo "$done_line" | awk '{print $5}')
    n=${n:-0}; s=${s:-0}
    total=$((total + n)); secs=$((secs + s)); echo $total > $OUT/total-$name; echo $secs > $OUT/secs-$name
    [ "$s" -gt 0 ] && rate=$(( n / s + 1 ))
    cov=$(grep -a -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*')
    echo "$(date +%H:%M:%S) $name run $run: $n executions in ${s}s (total $total in ${secs}s), $cov" | tee -a $OUT/campaign.out
    if grep -a -q "BUILD FAILURE" "$log"; then
      echo "$(date +%H:%M:%S) $name FINDING: $(grep -a -m1 'Test unit written' "$log")" | tee -a $OUT/campaign.out
      break
    fi
  done
done
