#!/usr/bin/env bash
# `make engines`: fetch the local engines once into .engines/ (ignored by git); a second call only checks.
#   Flink  - PyPI's apache-flink + apache-flink-libraries wheels carry Flink's bin/ scripts and lib/ jars.
#   Spark  - PyPI's pyspark carries Spark's jars and bin/spark-class (standalone Master and Worker).
#   Kafka  - Maven Central's kafka_2.13 jars and their dependencies (a single-node KRaft broker).
#   Prism  - Beam's portable runner in Go, `go install`ed from Beam's Go module.
#   Beam   - the Flink and Spark job servers and the IO expansion service, for pyproject's apache-beam
#            version, through `mvn dependency:copy`: Beam itself never downloads a jar at run time.
# PyPI's engine packages pin other versions of Beam's dependencies, so they go --no-deps into folders
# of their own, never into the project's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source engines/versions.env
ENGINES=${ENGINES:-.engines}
PYTHON=${PYTHON:-python3.11}
BEAM_VERSION=$(sed -n 's/^ *"apache-beam==\([^"]*\)".*/\1/p' pyproject.toml)
FLINK_MINOR=${FLINK_VERSION%.*}
MVN=(mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$PWD/$ENGINES/m2")
DEPENDENCY=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
mkdir -p "$ENGINES/logs" "$ENGINES/jars"

# pip_folder NAME PACKAGE...: install PACKAGEs without their dependencies into $ENGINES/NAME, once.
pip_folder() {
    local name=$1; shift
    [[ -f $ENGINES/$name/.fetched ]] && return
    rm -rf "$ENGINES/$name.part"
    "$PYTHON" -m pip install --quiet --no-deps --no-cache-dir --target "$ENGINES/$name.part" "$@"
    touch "$ENGINES/$name.part/.fetched"
    rm -rf "${ENGINES:?}/$name" && mv "$ENGINES/$name.part" "$ENGINES/$name"
    echo "engines: $name <- $*"
}

pip_folder flink "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
pip_folder spark "pyspark==$SPARK_VERSION"

if [[ ! -f $ENGINES/kafka/.fetched ]]; then
    rm -rf "$ENGINES/kafka"
    "${MVN[@]}" -f engines/kafka-pom.xml -Dkafka.version="$KAFKA_VERSION" -Dscala.binary="$SCALA_BINARY" \
        "$DEPENDENCY:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$PWD/$ENGINES/kafka/libs"
    touch "$ENGINES/kafka/.fetched"
    echo "engines: kafka <- org.apache.kafka:kafka_$SCALA_BINARY:$KAFKA_VERSION"
fi

# Prism, Beam's own portable runner (a Go program, built from Beam's Go module at pyproject's version):
# it runs the unbounded graph through the same job API and Fn API as the Flink job server, without Java.
if [[ ! -x $ENGINES/bin/prism ]]; then
    if command -v go >/dev/null 2>&1; then
        GOBIN="$PWD/$ENGINES/bin" go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$BEAM_VERSION"
        echo "engines: prism <- github.com/apache/beam/sdks/v2/go/cmd/prism@v$BEAM_VERSION"
    else
        echo "engines: warning: no Go toolchain, so no Prism: the streaming tests will be skipped" >&2
    fi
fi

# A Beam jar Maven Central does not serve is recorded in NAME.missing (what the engine tests report
# when they skip), so the clusters and Kafka still come up without it.
for artifact in "beam-runners-flink-$FLINK_MINOR-job-server" beam-runners-spark-3-job-server \
                beam-sdks-java-io-expansion-service; do
    jar=$ENGINES/jars/$artifact-$BEAM_VERSION.jar
    [[ -f $jar ]] && continue
    if "${MVN[@]}" "$DEPENDENCY:copy" -Dartifact="org.apache.beam:$artifact:$BEAM_VERSION" -Dtransitive=false \
            -DoutputDirectory="$PWD/$ENGINES/jars" >"$ENGINES/logs/fetch-$artifact.log" 2>&1; then
        rm -f "$ENGINES/jars/$artifact.missing"
        echo "engines: $jar"
    else
        echo "org.apache.beam:$artifact:$BEAM_VERSION is not served by the Maven registry" \
            "(mvn dependency:copy failed, see $ENGINES/logs/fetch-$artifact.log)" >"$ENGINES/jars/$artifact.missing"
        echo "engines: warning: $(cat "$ENGINES/jars/$artifact.missing")" >&2
    fi
done
echo "engines: fetched into $ENGINES/ (Beam $BEAM_VERSION, Flink $FLINK_VERSION, Spark $SPARK_VERSION," \
     "Kafka $KAFKA_VERSION)"
