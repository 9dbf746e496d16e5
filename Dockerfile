# The newsbeam image: Beam's official Python 3.11 SDK container, at the Beam version pyproject.toml pins,
# with newsbeam installed. One image serves every role:
#   SDK worker pool for Flink/Spark (EXTERNAL environment):  docker run IMAGE --worker_pool
#   job submitter:         docker run --entrypoint newsbeam IMAGE run --config configs/flink.yaml ...
#   Dataflow workers:      --sdk_container_image=<this image, pushed to a registry>
# The entrypoint stays the SDK's /opt/apache/beam/boot, which the runners' worker contract expects.
FROM apache/beam_python3.11_sdk:2.77.0

# Arrow on the system allocator, as pipeline/runtime/process.py sets for local runs: its default pool (mimalloc)
# keeps what Parquet reading and writing freed. A cluster worker imports pyarrow (through Beam) before any
# newsbeam module, and Arrow reads the variable only then, so the image sets it.
ENV PYTHONUNBUFFERED=1 \
    ARROW_DEFAULT_MEMORY_POOL=system
WORKDIR /opt/newsbeam

# Editable install: the rule files of the configs package are found beside the code (pipeline/config.py), and
# a submitter in this image resolves them to the same paths the workers in this image open.
COPY pyproject.toml README.md ./
COPY configs configs
COPY pipeline pipeline
COPY transforms transforms
COPY quality quality
RUN pip install --no-cache-dir -e . \
    && python -c "import apache_beam, pipeline.cli; assert apache_beam.__version__ == '2.77.0'"
