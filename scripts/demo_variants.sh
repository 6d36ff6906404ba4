#!/usr/bin/env bash
# Runs the demo pipeline (pipelines/demo.yaml) once per variant of its caption, filter and dedup
# settings on the same data and the same work folder, so every variant reuses the trained models
# upstream of the caption stage and recomputes only what its settings change: captions (when N
# changes), the filter's decisions (from stored scores), dedup, the bootstrapped set, the
# bootstrapped model and the evaluation. Writes each variant's results.json and stage times to
# demo/experiments/<experiment>/ and a markdown table (docs/demo-results.md quotes it).
#
# A variant is "name captions_per_image keep_top rank_by semantic": best-of-N (the default
# experiment) compares N = 1 with N = 5 keeping the best 1 or 2 by ITM or by ITC.
#
#   scripts/demo_variants.sh                      # the best-of-N experiment
#   EXPERIMENT=semdedup VARIANTS="off 1 0 itm false;on 1 0 itm true" scripts/demo_variants.sh
#
# Afterwards `make demo` returns the work folder to the pipeline's own settings (recomputing from
# the caption stage on).
set -euo pipefail
cd "$(dirname "$0")/.."

experiment=${EXPERIMENT:-best-of-n}
variants=${VARIANTS:-"n1 1 0 itm -;n5-top1-itm 5 1 itm -;n5-top2-itm 5 2 itm -;n5-top1-itc 5 1 itc -;n5-top2-itc 5 2 itc -"}
capfilt=${CAPFILT:-.build/release/capfilt}
out=demo/experiments/$experiment
mkdir -p "$out"
[ -x "$capfilt" ] || swift build -c release --product capfilt

# The pipeline with one variant's settings; paths rewritten for a file three folders down.
variant_pipeline() {
  local n=$1 top=$2 rank=$3 semantic=$4
  sed -e 's|\.\./demo/|../../../demo/|g' \
      -e "s|^    captions_per_image: .*|    captions_per_image: $n|" \
      -e '/^    keep_top: /d' -e '/^    rank_by: /d' \
      -e "s|^    first_token: enc$|    first_token: enc\n    keep_top: $top\n    rank_by: $rank|" \
      pipelines/demo.yaml |
    if [ "$semantic" = - ]; then cat; else sed -e "s|^    semantic: .*|    semantic: $semantic|"; fi
}

IFS=';' read -ra list <<< "$variants"
for v in "${list[@]}"; do
  read -r name n top rank semantic <<< "$v"
  file=$out/$name.yaml
  variant_pipeline "$n" "$top" "$rank" "$semantic" > "$file"
  echo "== $experiment/$name: captions_per_image $n, keep_top $top, rank_by $rank, semantic $semantic" >&2
  "$capfilt" demo --plain --pipeline "$file" > "$out/$name.log" 2>&1 || { tail -30 "$out/$name.log" >&2; exit 1; }
  cp demo/work/results.json "$out/$name.results.json"
  jq '[.stages[] | {stage, seconds, action}]' demo/work/runs/last-run.json > "$out/$name.stages.json"
done

# One row per variant; standard errors are binomial (R@1 over 1,000 image and 5,000 text queries).
table=$out/table.md
{
  echo "| variant | synthetic kept | false among kept | synthetic dropped | R@1 i2t | R@1 t2i | caption s | filter s |"
  echo "|---|---|---|---|---|---|---|---|"
  for v in "${list[@]}"; do
    read -r name _ <<< "$v"
    jq -r --arg name "$name" --slurpfile st "$out/$name.stages.json" '
      def se(p; n): ((p / 100) * (1 - p / 100) / n | sqrt) * 100;
      def secs(s): ([$st[0][] | select(.stage == s and .action == "ran") | .seconds] | add // 0 | floor);
      "| \($name) | \(.synthetic_kept // "n/a") | \(((.synthetic_kept_false_ratio // 0) * 1000 | round) / 10)% ± \(((.synthetic_kept_false_ratio_se // 0) * 1000 | round) / 10) "
      + "| \((.synthetic_noise_ratio * 1000 | round) / 10)% "
      + "| \(.r1_i2t_bootstrapped) ± \(se(.r1_i2t_bootstrapped; 1000) * 10 | round / 10) "
      + "| \(.r1_t2i_bootstrapped) ± \(se(.r1_t2i_bootstrapped; 5000) * 10 | round / 10) "
      + "| \(secs("caption")) | \(secs("filter")) |"' "$out/$name.results.json"
  done
} > "$table"
cat "$table"
