#!/usr/bin/env bash
# `make engines-up`: start the local engines fetched by `make engines`, each on localhost, and wait until
# each answers. Memory is sized for a 2-core, 24 GB machine that also runs the Python SDK workers:
#   Flink  - JobManager (1.6 GB) and one TaskManager (4 GB, 2 slots: one per core); UI and REST on :8081.
#   Spark  - standalone Master (:7077, UI :8080) and one Worker (2 cores, 4 GB for executors, UI :8082).
#   Kafka  - one KRaft broker+controller (1 GB heap), clients on :9092.
# Each process's pid goes to .engines/run/NAME.pid and its output to .engines/logs/NAME.log; a process
# whose pid file names a live process is left alone, so a second call is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."
source engines/versions.env
ENGINES=$(mkdir -p "${ENGINES:-.engines}" && cd "${ENGINES:-.engines}" && pwd)
RUN=$ENGINES/run LOGS=$ENGINES/logs
mkdir -p "$RUN" "$LOGS"
[[ -f $ENGINES/flink/.fetched && -f $ENGINES/spark/.fetched && -f $ENGINES/kafka/.fetched ]] \
    || { echo "engines: run 'make engines' first" >&2; exit 1; }

alive() { [[ -f $RUN/$1.pid ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# start NAME COMMAND...: run COMMAND detached (its own session, so `make` stopping does not stop it).
start() {
    local name=$1; shift
    if alive "$name"; then echo "engines: $name already running (pid $(cat "$RUN/$name.pid"))"; return; fi
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
    echo "engines: $name started (pid $!, log $LOGS/$name.log)"
}

# wait_for NAME SECONDS PROBE...: poll PROBE until it succeeds; fail early if NAME's process died.
wait_for() {
    local name=$1 seconds=$2; shift 2
    for ((i = 0; i < seconds; i++)); do
        "$@" >/dev/null 2>&1 && { echo "engines: $name answers"; return; }
        alive "$name" || break
        sleep 1
    done
    echo "engines: $name did not answer; last lines of $LOGS/$name.log:" >&2
    tail -n 20 "$LOGS/$name.log" >&2
    exit 1
}

json_has() { curl -sf "$1" | grep -q "$2"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1"); }

# Flink: the scripts of the pyflink wheel, our settings as dynamic properties over its config.yaml.
export FLINK_HOME=$ENGINES/flink/pyflink FLINK_LOG_DIR=$LOGS
FLINK_SETTINGS=(-D rest.port=8081 -D taskmanager.numberOfTaskSlots=2 -D taskmanager.memory.process.size=4096m
                -D jobmanager.memory.process.size=1600m -D parallelism.default=1)
start flink-jobmanager "$FLINK_HOME/bin/jobmanager.sh" start-foreground "${FLINK_SETTINGS[@]}"
start flink-taskmanager "$FLINK_HOME/bin/taskmanager.sh" start-foreground "${FLINK_SETTINGS[@]}"

# Spark: the jars and bin/spark-class of the pyspark package.
export SPARK_HOME=$ENGINES/spark/pyspark SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR=$LOGS SPARK_DAEMON_MEMORY=512m
start spark-master "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 7077 --webui-port 8080
start spark-worker "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --cores 2 --memory 4g --webui-port 8082 --work-dir "$ENGINES/spark-work" spark://127.0.0.1:7077

# Kafka: one process as broker and controller (KRaft); its storage is formatted once.
KAFKA_CP="$ENGINES/kafka/libs/*" KAFKA_CONF=$ENGINES/kafka-server.properties
cat >"$KAFKA_CONF" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$ENGINES/kafka-data
num.partitions=2
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES
if [[ ! -f $ENGINES/kafka-data/meta.properties ]] && ! alive kafka; then
    java -cp "$KAFKA_CP" kafka.tools.StorageTool format --ignore-formatted -c "$KAFKA_CONF" \
        -t "$(java -cp "$KAFKA_CP" kafka.tools.StorageTool random-uuid)" >"$LOGS/kafka-format.log" 2>&1
fi
start kafka java -Xms512m -Xmx1g -Dlog4j2.configurationFile="$PWD/engines/kafka-log4j2.yaml" -cp "$KAFKA_CP" \
    kafka.Kafka "$KAFKA_CONF"

wait_for flink-jobmanager 90 json_has http://127.0.0.1:8081/overview '"taskmanagers":1'
wait_for flink-taskmanager 90 json_has http://127.0.0.1:8081/overview '"slots-total":2'
wait_for spark-master 90 json_has http://127.0.0.1:8080/json/ '"status" *: *"ALIVE"'
wait_for spark-worker 90 json_has http://127.0.0.1:8080/json/ '"aliveworkers" *: *1'
wait_for kafka 90 port_open 9092
echo "engines: up (Flink http://127.0.0.1:8081, Spark spark://127.0.0.1:7077, Kafka 127.0.0.1:9092)"
