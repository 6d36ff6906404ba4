#!/usr/bin/env bash
# `make demo`: until the bundled CapFilt bootstrap benchmark lands, runs the engine on the bundled
# parity models.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/capfilt
med=Tests/MEDTests/Fixtures/med
echo "capfilt demo: the bundled CapFilt bootstrap benchmark (data, training, evaluation) is not"
echo "there yet; this runs the MED engine on the tiny random BLIP models used by the parity tests"
echo "(their captions are random words). The pipeline itself: capfilt run pipelines/capfilt.yaml."
echo
echo "== caption (beam search, 3 beams) =="
"$bin" caption --model "$med/captioner" --json "$med/jpeg0.jpg" "$med/jpeg1.jpg"
echo
echo "== caption (nucleus sampling p=0.9, prompt 'a picture of ', 3 captions) =="
"$bin" caption --model "$med/captioner" --sample --top-p 0.9 --repetition-penalty 1.1 \
  --max-length 30 --min-length 10 --prompt "a picture of " --num-captions 3 --seed 1 "$med/jpeg0.jpg"
echo
echo "== score (ITM probability and ITC cosine) =="
"$bin" score --model "$med/itm" --json --image "$med/jpeg0.jpg" --text "a red circle on a blue square"
"$bin" score --model "$med/itm" --json --image "$med/jpeg1.jpg" --text "two dogs"
