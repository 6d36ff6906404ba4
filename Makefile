# capfilt: build, test, fixtures and benchmarks.
# `make test` and `make demo` install what they need on a fresh Debian machine.

SWIFT        ?= swift
VENV         ?= .venv
PYTHON       ?= python3
BENCH_CACHE  ?= $(HOME)/.cache/capfilt-bench
COST_IMAGES  ?= 1000
DEB_PACKAGES := libopenblas-dev libjpeg62-turbo-dev libpng-dev libwebp-dev \
                libcurl4-openssl-dev libsqlite3-dev libsnappy-dev zlib1g-dev libzstd-dev \
                liblz4-dev libbrotli-dev
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup build release test fixtures bench bench-shards demo clean venv docs

# Install the Debian packages that are missing (and only those).
setup:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product capfilt

test: setup
	$(SWIFT) test

# docs/parameters.md is generated from the stage declarations (a test fails when it is stale).
docs: build
	$(SWIFT) run -q capfilt stages --markdown > docs/parameters.md

# Python is used for fixtures and peer benchmarks only; the venv lives in .venv (ignored).
venv: $(VENV)/.ok
$(VENV)/.ok: scripts/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r scripts/requirements.txt
	touch $@

fixtures: venv release parquet-writer-fixtures
	$(VENV)/bin/python scripts/make_tokenizer_fixtures.py
	$(VENV)/bin/python scripts/make_checkpoint_fixtures.py
	$(VENV)/bin/python scripts/make_med_fixtures.py
	$(VENV)/bin/python scripts/make_image_fixtures.py
	$(VENV)/bin/python scripts/make_ingest_fixtures.py
	$(VENV)/bin/python scripts/make_training_fixtures.py
	$(VENV)/bin/python scripts/make_vision_classifier_fixture.py
	$(VENV)/bin/python scripts/make_evaluation_fixtures.py
	$(VENV)/bin/python scripts/bench_imaging.py check --write-fixture
	$(VENV)/bin/python scripts/check_training_roundtrip.py --capfilt .build/release/capfilt

# Parquet files from pyarrow, polars, DuckDB, fastparquet, Spark and DataFusion for the reader's
# tests, written with the packages of scripts/requirements-parquet-writers.txt in a venv of their
# own (Spark also needs Java 17: Debian's openjdk-17-jre-headless).
PARQUET_VENV ?= .venv-parquet
.PHONY: parquet-writer-fixtures
parquet-writer-fixtures: $(PARQUET_VENV)/.ok
	$(PARQUET_VENV)/bin/python scripts/make_parquet_writer_fixtures.py
$(PARQUET_VENV)/.ok: scripts/requirements-parquet-writers.txt
	$(PYTHON) -m venv $(PARQUET_VENV)
	$(PARQUET_VENV)/bin/pip install -q -r scripts/requirements-parquet-writers.txt
	touch $@

# The timings come from the benchmark executable, capfilt-bench (Sources/capfilt-bench), next to
# whole-process runs of capfilt itself. bench_med.py also times sgemm in oneDNN (Debian's
# libdnnl-dev) next to OpenBLAS; installed here only.
bench: setup venv release
	$(SWIFT) build -c release --product capfilt-bench
	@[ -e /usr/lib/x86_64-linux-gnu/libdnnl.so ] || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libdnnl-dev; }
	$(VENV)/bin/python scripts/bench_med.py --cache $(BENCH_CACHE) --capfilt .build/release/capfilt \
	  --capfilt-bench .build/release/capfilt-bench
	$(VENV)/bin/python scripts/bench_capfilt_cost.py --cache $(BENCH_CACHE) --capfilt .build/release/capfilt --images $(COST_IMAGES)
	$(VENV)/bin/pip install -q "opencv-python-headless>=4.9,<5" "albumentations>=1.4,<2"
	$(VENV)/bin/pip install -q --no-deps "img2dataset==1.47.0"
	$(VENV)/bin/python scripts/bench_imaging.py --cache $(BENCH_CACHE) --capfilt .build/release/capfilt \
	  --capfilt-bench .build/release/capfilt-bench
	@[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx; }
	$(VENV)/bin/python scripts/bench_fetch.py --cache $(BENCH_CACHE) --capfilt .build/release/capfilt
	$(VENV)/bin/python scripts/bench_pipeline.py --cache $(BENCH_CACHE) --capfilt .build/release/capfilt \
	  --capfilt-bench .build/release/capfilt-bench
	$(VENV)/bin/python scripts/bench_training.py --capfilt-bench .build/release/capfilt-bench
	.build/release/capfilt-bench export --report docs/benchmarks-export.md
	.build/release/capfilt-bench semdedup --report docs/benchmarks-semdedup.md
	.build/release/capfilt-bench gates
	.build/release/capfilt-bench caption-n --captions 1,5 --images 4 --repeat 3
	scripts/bench_hamming.sh
	$(MAKE) bench-shards

# Ingest of 100 img2dataset-layout shards x 1,000 samples (written once into the cache), then
# fetch of their members; docs/benchmarks-ingest.md. Needs no network.
bench-shards: release
	$(SWIFT) build -c release --product capfilt-bench
	.build/release/capfilt-bench shards --folder $(BENCH_CACHE)/img2dataset-shards --shards 100 --samples 1000 \
	  --workdir $(BENCH_CACHE)/shards-work --fetch

# libFuzzer over the image decoders and resampler (Tests/Fuzz, its own package), seeded with the
# image fixtures: make fuzz FUZZ_SECONDS=600. Findings land in Tests/Fuzz/.build/artifacts/.
FUZZ_SECONDS ?= 300
FUZZ_DIR     := Tests/Fuzz/.build
.PHONY: fuzz
fuzz: setup
	cd Tests/Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
	  -Xcc -fsanitize=fuzzer-no-link,address
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	cp Tests/ImagingTests/Fixtures/*.jpg Tests/ImagingTests/Fixtures/*.png Tests/ImagingTests/Fixtures/*.webp $(FUZZ_DIR)/corpus/
	$(FUZZ_DIR)/release/ImagingFuzz $(FUZZ_DIR)/corpus -max_len=65536 -max_total_time=$(FUZZ_SECONDS) \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ -print_final_stats=1

# The whole CapFilt bootstrap on generated data (docs/demo.md); interrupt and rerun to resume.
demo: release
	.build/release/capfilt demo

clean:
	rm -rf .build

# WebDataset interop: the ExportTests sample export (real JPEG bytes, tricky keys, long names)
# read back by the `webdataset` Python package; then a pipeline export's Parquet files (sidecars
# and the `datasets` image layout) read by pyarrow, `datasets` and DuckDB. INTEROP_SWIFT_FLAGS passes extra flags to
# `swift test`, e.g. --scratch-path.
EXPORT_SAMPLE_DIR   ?= .build/interop-export
PARQUET_EXPORT_DIR  ?= .build/interop-parquet-export
INTEROP_SWIFT_FLAGS ?=
.PHONY: interop-export
interop-export: setup
	rm -rf $(EXPORT_SAMPLE_DIR) && mkdir -p $(EXPORT_SAMPLE_DIR)
	CAPFILT_EXPORT_SAMPLE_DIR=$(abspath $(EXPORT_SAMPLE_DIR)) $(SWIFT) test $(INTEROP_SWIFT_FLAGS) \
	  --filter ExportTests.WebDatasetInteropTests
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "webdataset>=0.2.5"
	$(VENV)/bin/python scripts/check_webdataset.py $(EXPORT_SAMPLE_DIR)
	rm -rf $(PARQUET_EXPORT_DIR)
	CAPFILT_PARQUET_EXPORT_DIR=$(abspath $(PARQUET_EXPORT_DIR)) $(SWIFT) test $(INTEROP_SWIFT_FLAGS) --filter ParquetExportTests
	$(VENV)/bin/pip install -q pyarrow "datasets>=2.19" duckdb pillow
	$(VENV)/bin/python scripts/check_parquet_export.py $(PARQUET_EXPORT_DIR)

# The pipeline's own export (a full run over the test dataset) read back the same way, in three
# forms: one sample per pair, one per image (`group_by_image`), and an incremental update with
# exclusions (`mode: incremental`).
PIPELINE_EXPORT_DIR    ?= .build/interop-pipeline-export
GROUPED_EXPORT_DIR     ?= .build/interop-grouped-export
INCREMENTAL_EXPORT_DIR ?= .build/interop-incremental-export
.PHONY: interop-pipeline
interop-pipeline: setup
	CAPFILT_PIPELINE_EXPORT_DIR=$(abspath $(PIPELINE_EXPORT_DIR)) CAPFILT_GROUPED_EXPORT_DIR=$(abspath $(GROUPED_EXPORT_DIR)) \
	  CAPFILT_INCREMENTAL_EXPORT_DIR=$(abspath $(INCREMENTAL_EXPORT_DIR)) $(SWIFT) test $(INTEROP_SWIFT_FLAGS) \
	  --filter 'PipelineRunTests.testFullRunStatusesDedupAndExport|GroupedExportTests|IncrementalExportTests'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "webdataset>=0.2.5" pillow
	$(VENV)/bin/python scripts/check_pipeline_export.py $(PIPELINE_EXPORT_DIR)
	$(VENV)/bin/python scripts/check_pipeline_export.py $(GROUPED_EXPORT_DIR)
	$(VENV)/bin/python scripts/check_pipeline_export.py $(INCREMENTAL_EXPORT_DIR)

# capfilt's own training checkpoints (pretrain, finetune caption / retrieval) loaded by transformers:
# no missing or unexpected tensors, same ITM / ITC scores, same greedy captions.
.PHONY: interop-training
interop-training: venv release
	$(VENV)/bin/python scripts/check_training_roundtrip.py --capfilt .build/release/capfilt

# The Slurm executor on a real one-node cluster (Debian's slurm-wlm + munge, installed,
# configured, started and stopped by the script; needs root): docs/scale-out.md.
.PHONY: test-slurm
test-slurm: setup
	scripts/test_slurm.sh
