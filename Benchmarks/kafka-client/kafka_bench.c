/*
 * kafka_bench: the Kafka client side of scripts/bench-broker, over librdkafka's public C API.
 *
 *   kafka_bench produce --brokers HOST:PORT --topic T --partitions P --seconds S [--record-bytes N]
 *                       [--idempotence] [--stats-file PATH]
 *   kafka_bench latency --brokers HOST:PORT --topic T --partitions P --seconds S --rate R [--record-bytes N]
 *                       [--idempotence] [--stats-file PATH]
 *   kafka_bench consume --brokers HOST:PORT --topic T --partitions P --records N [--timeout S]
 *
 * Each mode prints progress on stderr and one JSON object on stdout. A producing mode given
 * --stats-file PATH also writes librdkafka's statistics there (one JSON object a second, one a line).
 *
 * - produce: sends records as fast as librdkafka accepts them for S seconds (groups of 64 records,
 *   round-robin over the partitions, through rd_kafka_produce_batch), then flushes. Only records acknowledged by a successful delivery report count; the
 *   rate is acknowledged bytes (record values) over the time from the first send to the last report.
 *   librdkafka's statistics give the average batch (MessageSet) the broker received.
 * - latency: sends at a paced R records/s and records, per record, the time from when it was due by
 *   the schedule to its delivery report (which a dedicated thread serves as soon as it arrives). The
 *   sender wakes every PACE_TICK_NS and hands the records due by then to librdkafka a partition's
 *   group at a time, through rd_kafka_produce_batch.
 * - consume: reads every partition from the beginning (rd_kafka_assign, no group rebalance) until
 *   N records arrived.
 *
 * Build: gcc -O2 -Wall -o kafka_bench kafka_bench.c -lrdkafka -lpthread -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The producer settings of every producing mode (the brief of the benchmark). */
#define LINGER_MS "5"
#define BATCH_BYTES "1048576"
/* A batch of batch.size must fit a message.max.bytes; the broker's max.message.bytes is 1 MiB + 12. */
#define MESSAGE_BYTES_MAX "1048576"

#define SETTINGS_MAX 16

/* How often the latency run's sender wakes. Waking for every record (every 2 µs at 500 k records/s)
 * cost this 2-core machine a fifth of a core in timer wake-ups, taken from the broker and from
 * librdkafka's own threads; a record waits at most this long past its due time, and that wait counts
 * in its latency. */
#define PACE_TICK_NS 250000

struct options {
    const char *mode;
    const char *brokers;
    const char *topic;
    int partitions;
    double seconds;
    int record_bytes;
    double rate;
    int idempotence;
    const char *stats_path;
    long long records;
    double timeout;
    /* --set NAME=VALUE: more producer settings, after the brief's (to try a client setting). */
    const char *settings[SETTINGS_MAX];
    int setting_count;
};

static void die(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "kafka_bench: ");
    vfprintf(stderr, format, arguments);
    fprintf(stderr, "\n");
    va_end(arguments);
    exit(1);
}

static int64_t now_ns(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (int64_t)time.tv_sec * 1000000000 + time.tv_nsec;
}

static void sleep_until_ns(int64_t deadline) {
    struct timespec time = {.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, NULL) == EINTR) {
    }
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char error[512];
    if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
        die("%s=%s: %s", name, value, error);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    (void)opaque;
    fprintf(stderr, "kafka_bench: client error %s: %s\n", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* A payload source: records point into it at varying offsets, so no two neighbours are equal and
 * nothing compresses or deduplicates by accident. */
static unsigned char *random_bytes(size_t byte_count) {
    unsigned char *bytes = malloc(byte_count);
    if (!bytes) die("out of memory");
    uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t)now_ns();
    for (size_t index = 0; index < byte_count; index++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes[index] = (unsigned char)state;
    }
    return bytes;
}
#define PAYLOAD_POOL_BYTES (4u << 20)

/* MARK: Producing */

struct producer_state {
    atomic_llong acked_records;
    atomic_llong acked_bytes;
    atomic_llong failed_records;
    atomic_llong last_ack_ns;
    /* Latency mode: send time per record index, and latency once reported (ns; -1 if failed). */
    int64_t *sent_ns;
    int64_t *latency_ns;
    /* From the statistics callback: MessageSets produced (sum of bytes, count, sum of records). */
    pthread_mutex_t stats_lock;
    double batch_bytes_sum;
    double batch_count;
    double batch_records_sum;
    atomic_int stop_polling;
    /* With --stats-file: every statistics object, one a line (the script reads latencies from them). */
    FILE *stats_file;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    struct producer_state *state = opaque;
    if (message->err) {
        long long failed = atomic_fetch_add(&state->failed_records, 1);
        if (failed < 5) fprintf(stderr, "kafka_bench: delivery failed: %s\n", rd_kafka_err2str(message->err));
        if (state->latency_ns) state->latency_ns[(intptr_t)message->_private] = -1;
        return;
    }
    atomic_fetch_add(&state->acked_records, 1);
    atomic_fetch_add(&state->acked_bytes, (long long)message->len);
    if (state->latency_ns) {
        intptr_t index = (intptr_t)message->_private;
        state->latency_ns[index] = now_ns() - state->sent_ns[index];
    }
}

/* Finds `"key":` after `from` and parses the number that follows; -1 if absent. */
static double json_number_after(const char *from, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *found = strstr(from, pattern);
    return found ? strtod(found + strlen(pattern), NULL) : -1;
}

/* Statistics arrive once a second with rolling windows: each call covers the last interval. */
static int on_stats(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
    (void)rk;
    struct producer_state *state = opaque;
    if (state->stats_file) {
        fwrite(json, 1, json_len, state->stats_file);
        fputc('\n', state->stats_file);
    }
    const char *topics = strstr(json, "\"topics\":");
    if (!topics) return 0;
    const char *sizes = strstr(topics, "\"batchsize\":");
    const char *counts = strstr(topics, "\"batchcnt\":");
    if (!sizes || !counts) return 0;
    double size_sum = json_number_after(sizes, "sum"), size_count = json_number_after(sizes, "cnt");
    double records_sum = json_number_after(counts, "sum");
    if (size_sum > 0 && size_count > 0) {
        pthread_mutex_lock(&state->stats_lock);
        state->batch_bytes_sum += size_sum;
        state->batch_count += size_count;
        state->batch_records_sum += records_sum > 0 ? records_sum : 0;
        pthread_mutex_unlock(&state->stats_lock);
    }
    return 0;
}

/* Serves delivery reports the moment they arrive, so that their timestamps are not delayed by the
 * sending loop's sleeps. */
static void *poll_loop(void *argument) {
    rd_kafka_t *rk = argument;
    struct producer_state *state = rd_kafka_opaque(rk);
    while (!atomic_load(&state->stop_polling)) {
        /* The clock once per served batch of reports, not once per record: a record's report is at
         * most one batch late, and the throughput run's client spends less of the shared CPU. */
        if (rd_kafka_poll(rk, 50) > 0) atomic_store(&state->last_ack_ns, now_ns());
    }
    return NULL;
}

static rd_kafka_t *new_producer(const struct options *options, struct producer_state *state) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char error[512];
    set(conf, "bootstrap.servers", options->brokers);
    set(conf, "client.id", "sluice-bench");
    set(conf, "acks", "all");
    set(conf, "enable.idempotence", options->idempotence ? "true" : "false");
    set(conf, "linger.ms", LINGER_MS);
    set(conf, "batch.size", BATCH_BYTES);
    set(conf, "message.max.bytes", MESSAGE_BYTES_MAX);
    set(conf, "compression.type", "none");
    /* Enough room in the client's queue to keep every partition's batches full. */
    set(conf, "queue.buffering.max.kbytes", "131072");
    set(conf, "queue.buffering.max.messages", "1000000");
    set(conf, "statistics.interval.ms", "1000");
    for (int index = 0; index < options->setting_count; index++) {
        char name[256];
        const char *equals = strchr(options->settings[index], '=');
        if (!equals || (size_t)(equals - options->settings[index]) >= sizeof name) die("--set needs NAME=VALUE");
        memcpy(name, options->settings[index], (size_t)(equals - options->settings[index]));
        name[equals - options->settings[index]] = 0;
        set(conf, name, equals + 1);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, state);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!rk) die("cannot create the producer: %s", error);
    return rk;
}

/* Sends one record; waits while the client's queue is full. */
static void send_record(rd_kafka_t *rk, const struct options *options, int partition, const unsigned char *value,
                        intptr_t index) {
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(options->topic), RD_KAFKA_V_PARTITION(partition),
            /* No copy: the payload pool outlives the producer. */
            RD_KAFKA_V_VALUE((void *)value, (size_t)options->record_bytes), RD_KAFKA_V_OPAQUE((void *)index),
            RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce failed: %s", rd_kafka_err2str(err));
        usleep(100);
    }
}

/* The throughput run hands librdkafka records SEND_GROUP_RECORDS at a time, all for one partition,
 * through rd_kafka_produce_batch(): one enqueue (and one queue lock) per group instead of per record.
 * The records, batches and requests on the wire are the same as with rd_kafka_producev(); the client
 * only spends less of the CPU it shares with the broker (about a quarter less per MB here). */
#define SEND_GROUP_RECORDS 64

/* Enqueues a group of records for one partition; waits while the client's queue is full. */
static void send_group(rd_kafka_topic_t *topic, int partition, rd_kafka_message_t *messages, int count) {
    for (;;) {
        for (int index = 0; index < count; index++) messages[index].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (rd_kafka_produce_batch(topic, partition, 0, messages, count) == count) return;
        /* The records refused are retried, in their order. */
        int refused = 0;
        for (int index = 0; index < count; index++) {
            if (messages[index].err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
            if (messages[index].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                die("produce failed: %s", rd_kafka_err2str(messages[index].err));
            }
            messages[refused++] = messages[index];
        }
        count = refused;
        if (count == 0) return;
        usleep(100);
    }
}

/* Sends what a partition's group (of SEND_GROUP_RECORDS slots in `groups`) holds, and empties it. */
static void send_pending(rd_kafka_topic_t *topic, rd_kafka_message_t *groups, int *group_counts, int partition) {
    if (group_counts[partition] == 0) return;
    send_group(topic, partition, groups + (size_t)partition * SEND_GROUP_RECORDS, group_counts[partition]);
    group_counts[partition] = 0;
}

/* One record to every partition, acknowledged: connections and metadata are ready before timing. */
static void warm_up(rd_kafka_t *rk, const struct options *options, const unsigned char *pool,
                    struct producer_state *state) {
    int64_t *saved_latency = state->latency_ns;
    state->latency_ns = NULL;
    for (int partition = 0; partition < options->partitions; partition++) send_record(rk, options, partition, pool, 0);
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("warm-up records were not acknowledged in 30 s");
    if (atomic_load(&state->failed_records) > 0) die("warm-up records failed");
    atomic_store(&state->acked_records, 0);
    atomic_store(&state->acked_bytes, 0);
    pthread_mutex_lock(&state->stats_lock);
    state->batch_bytes_sum = state->batch_count = state->batch_records_sum = 0;
    pthread_mutex_unlock(&state->stats_lock);
    state->latency_ns = saved_latency;
}

static void producer_state_init(struct producer_state *state, const struct options *options) {
    memset(state, 0, sizeof *state);
    pthread_mutex_init(&state->stats_lock, NULL);
    if (options->stats_path && !(state->stats_file = fopen(options->stats_path, "w"))) {
        die("cannot write %s", options->stats_path);
    }
}

/* CPU time of the whole client (all of librdkafka's threads), in seconds. */
static double process_cpu_seconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time);
    return (double)time.tv_sec + time.tv_nsec / 1e9;
}

static int run_produce(const struct options *options) {
    struct producer_state state;
    producer_state_init(&state, options);
    unsigned char *pool = random_bytes(PAYLOAD_POOL_BYTES);
    rd_kafka_t *rk = new_producer(options, &state);
    pthread_t poller;
    pthread_create(&poller, NULL, poll_loop, rk);
    warm_up(rk, options, pool, &state);
    rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, options->topic, NULL);
    if (!topic) die("cannot create the topic handle: %s", rd_kafka_err2str(rd_kafka_last_error()));

    size_t offsets = PAYLOAD_POOL_BYTES - (size_t)options->record_bytes;
    rd_kafka_message_t group[SEND_GROUP_RECORDS];
    double cpu_start = process_cpu_seconds();
    int64_t start = now_ns();
    int64_t deadline = start + (int64_t)(options->seconds * 1e9);
    int64_t next_report = start + 1000000000;
    long long sent = 0;
    while (1) {
        /* Check the clock every 256 records: cheap enough, and a few hundred microseconds at most late. */
        if (sent % 256 == 0) {
            int64_t now = now_ns();
            if (now >= deadline) break;
            if (now >= next_report) {
                fprintf(stderr, "  produce: %.1f s, %lld sent, %lld acknowledged\n", (now - start) / 1e9, sent,
                        atomic_load(&state.acked_records));
                next_report += 1000000000;
            }
        }
        memset(group, 0, sizeof group);
        for (int index = 0; index < SEND_GROUP_RECORDS; index++) {
            /* No copy: the payload pool outlives the producer. */
            group[index].payload = pool + (size_t)((sent + index) * 4099) % offsets;
            group[index].len = (size_t)options->record_bytes;
        }
        send_group(topic, (int)(sent / SEND_GROUP_RECORDS % options->partitions), group, SEND_GROUP_RECORDS);
        sent += SEND_GROUP_RECORDS;
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) fprintf(stderr, "kafka_bench: flush timed out\n");
    /* flush returns as the last report is served (by it or by the poller). */
    atomic_store(&state.last_ack_ns, now_ns());
    double cpu_seconds = process_cpu_seconds() - cpu_start;
    atomic_store(&state.stop_polling, 1);
    pthread_join(poller, NULL);
    /* One more statistics window, so that the batches at the end of the run are counted too. */
    rd_kafka_poll(rk, 1100);

    long long records = atomic_load(&state.acked_records), bytes = atomic_load(&state.acked_bytes);
    double seconds = (atomic_load(&state.last_ack_ns) - start) / 1e9;
    double batch_bytes = state.batch_count > 0 ? state.batch_bytes_sum / state.batch_count : 0;
    double batch_records = state.batch_count > 0 ? state.batch_records_sum / state.batch_count : 0;
    printf("{\"records\": %lld, \"bytes\": %lld, \"seconds\": %.3f, \"mb_s\": %.3f, \"records_s\": %.1f, "
           "\"failed\": %lld, \"sent\": %lld, \"avg_batch_bytes\": %.0f, \"avg_batch_records\": %.1f, "
           "\"batches\": %.0f, \"cpu_cores\": %.3f}\n",
           records, bytes, seconds, bytes / seconds / 1e6, records / seconds, atomic_load(&state.failed_records), sent,
           batch_bytes, batch_records, state.batch_count, cpu_seconds / seconds);
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(rk);
    if (state.stats_file) fclose(state.stats_file);
    free(pool);
    return atomic_load(&state.failed_records) > 0 || records == 0;
}

static int compare_int64(const void *left, const void *right) {
    int64_t a = *(const int64_t *)left, b = *(const int64_t *)right;
    return (a > b) - (a < b);
}

static double percentile_ms(const int64_t *sorted, long long count, double quantile) {
    long long index = (long long)(quantile * (double)(count - 1) + 0.5);
    return sorted[index] / 1e6;
}

static int run_latency(const struct options *options) {
    if (options->rate <= 0) die("latency needs --rate");
    struct producer_state state;
    producer_state_init(&state, options);
    long long total = (long long)(options->rate * options->seconds);
    if (total < 1) die("rate × seconds is below one record");
    state.sent_ns = calloc((size_t)total, sizeof(int64_t));
    state.latency_ns = calloc((size_t)total, sizeof(int64_t));
    if (!state.sent_ns || !state.latency_ns) die("out of memory");
    unsigned char *pool = random_bytes(PAYLOAD_POOL_BYTES);
    rd_kafka_t *rk = new_producer(options, &state);
    pthread_t poller;
    pthread_create(&poller, NULL, poll_loop, rk);
    warm_up(rk, options, pool, &state);

    size_t offsets = PAYLOAD_POOL_BYTES - (size_t)options->record_bytes;
    double interval_ns = 1e9 / options->rate;
    rd_kafka_topic_t *topic = rd_kafka_topic_new(rk, options->topic, NULL);
    if (!topic) die("cannot create the topic handle: %s", rd_kafka_err2str(rd_kafka_last_error()));
    /* The records due at one wake-up go to librdkafka a partition's group at a time, as in the
     * throughput run: the client then takes less of the CPU it shares with the broker. A record's
     * latency counts from when the schedule made it due, not from when it was handed over, so that
     * neither the tick nor a sender held up by the scheduler hides any of it. */
    rd_kafka_message_t *groups = calloc((size_t)options->partitions * SEND_GROUP_RECORDS, sizeof *groups);
    int *group_counts = calloc((size_t)options->partitions, sizeof *group_counts);
    if (!groups || !group_counts) die("out of memory");
    int64_t start = now_ns();
    int64_t behind_max = 0;
/* When the schedule makes record `index` due. */
#define DUE_NS(index) (start + (int64_t)((index) * interval_ns))
    for (long long index = 0; index < total;) {
        int64_t now = now_ns();
        /* Every record whose time has come goes now; the schedule never drifts. */
        while (index < total && DUE_NS(index) <= now) {
            int64_t due = DUE_NS(index);
            if (now - due > behind_max) behind_max = now - due;
            int partition = (int)(index % options->partitions);
            rd_kafka_message_t *group = groups + (size_t)partition * SEND_GROUP_RECORDS;
            rd_kafka_message_t *message = group + group_counts[partition]++;
            memset(message, 0, sizeof *message);
            message->payload = pool + (size_t)(index * 4099) % offsets;
            message->len = (size_t)options->record_bytes;
            message->_private = (void *)(intptr_t)index;
            state.sent_ns[index] = due;
            index++;
            if (group_counts[partition] == SEND_GROUP_RECORDS) send_pending(topic, groups, group_counts, partition);
        }
        for (int partition = 0; partition < options->partitions; partition++) send_pending(topic, groups, group_counts, partition);
        if (index < total) sleep_until_ns(DUE_NS(index) > now + PACE_TICK_NS ? DUE_NS(index) : now + PACE_TICK_NS);
    }
#undef DUE_NS
    double send_seconds = (now_ns() - start) / 1e9;
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) fprintf(stderr, "kafka_bench: flush timed out\n");
    atomic_store(&state.stop_polling, 1);
    pthread_join(poller, NULL);

    long long acked = 0;
    for (long long index = 0; index < total; index++) {
        if (state.latency_ns[index] > 0) state.latency_ns[acked++] = state.latency_ns[index];
    }
    if (acked == 0) die("no record was acknowledged");
    qsort(state.latency_ns, (size_t)acked, sizeof(int64_t), compare_int64);
    double sum = 0;
    for (long long index = 0; index < acked; index++) sum += state.latency_ns[index];
    printf("{\"rate_records_s\": %.1f, \"target_rate_records_s\": %.1f, \"records\": %lld, \"failed\": %lld, "
           "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, "
           "\"mean_ms\": %.3f, \"sender_behind_max_ms\": %.3f}\n",
           total / send_seconds, options->rate, acked, atomic_load(&state.failed_records),
           percentile_ms(state.latency_ns, acked, 0.50), percentile_ms(state.latency_ns, acked, 0.90),
           percentile_ms(state.latency_ns, acked, 0.99), percentile_ms(state.latency_ns, acked, 0.999),
           state.latency_ns[acked - 1] / 1e6, sum / acked / 1e6, behind_max / 1e6);
    rd_kafka_topic_destroy(topic);
    free(groups);
    free(group_counts);
    rd_kafka_destroy(rk);
    if (state.stats_file) fclose(state.stats_file);
    free(pool);
    return atomic_load(&state.failed_records) > 0;
}

/* MARK: Consuming */

static int run_consume(const struct options *options) {
    if (options->records <= 0) die("consume needs --records");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char error[512], group[64];
    snprintf(group, sizeof group, "sluice-bench-%d", (int)getpid());
    set(conf, "bootstrap.servers", options->brokers);
    set(conf, "client.id", "sluice-bench");
    set(conf, "group.id", group);
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "auto.offset.reset", "earliest");
    /* Large fetches: up to 4 MiB a partition, 50 MiB a request, and a deep prefetch queue. */
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "max.partition.fetch.bytes", "4194304");
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "queued.max.messages.kbytes", "262144");
    set(conf, "queued.min.messages", "200000");
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (!rk) die("cannot create the consumer: %s", error);
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(options->partitions);
    for (int partition = 0; partition < options->partitions; partition++) {
        rd_kafka_topic_partition_list_add(assignment, options->topic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    int64_t start = now_ns();
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
    if (err) die("assign failed: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(assignment);

    long long records = 0, bytes = 0;
    int64_t last_message = start, next_report = start + 1000000000;
    int64_t idle_limit = (int64_t)(options->timeout * 1e9);
    while (records < options->records) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        int64_t now = now_ns();
        if (now >= next_report) {
            fprintf(stderr, "  consume: %.1f s, %lld records\n", (now - start) / 1e9, records);
            next_report += 1000000000;
        }
        if (!message) {
            if (now - last_message > idle_limit) {
                fprintf(stderr, "kafka_bench: nothing for %.0f s; stopping at %lld of %lld records\n", options->timeout,
                        records, options->records);
                break;
            }
            continue;
        }
        if (message->err) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "kafka_bench: consume error: %s\n", rd_kafka_message_errstr(message));
            }
        } else {
            records++;
            bytes += (long long)message->len;
            last_message = now;
        }
        rd_kafka_message_destroy(message);
    }
    double seconds = (last_message - start) / 1e9;
    printf("{\"records\": %lld, \"bytes\": %lld, \"seconds\": %.3f, \"mb_s\": %.3f, \"records_s\": %.1f}\n", records,
           bytes, seconds, bytes / seconds / 1e6, records / seconds);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return records < options->records;
}

/* MARK: Arguments */

static void usage(void) {
    fprintf(stderr,
            "usage: kafka_bench produce|latency|consume --brokers HOST:PORT --topic T --partitions P\n"
            "       [--seconds S] [--record-bytes N] [--rate R] [--idempotence] [--records N] [--timeout S]\n"
            "       [--stats-file PATH] [--set NAME=VALUE]...\n");
    exit(2);
}

int main(int argc, char **argv) {
    struct options options = {.partitions = 1, .seconds = 5, .record_bytes = 1024, .timeout = 15, .topic = "bench"};
    if (argc < 2) usage();
    options.mode = argv[1];
    for (int index = 2; index < argc; index++) {
        const char *name = argv[index];
        if (strcmp(name, "--idempotence") == 0) {
            options.idempotence = 1;
            continue;
        }
        if (index + 1 >= argc) usage();
        const char *value = argv[++index];
        if (strcmp(name, "--brokers") == 0) options.brokers = value;
        else if (strcmp(name, "--topic") == 0) options.topic = value;
        else if (strcmp(name, "--partitions") == 0) options.partitions = atoi(value);
        else if (strcmp(name, "--seconds") == 0) options.seconds = atof(value);
        else if (strcmp(name, "--record-bytes") == 0) options.record_bytes = atoi(value);
        else if (strcmp(name, "--rate") == 0) options.rate = atof(value);
        else if (strcmp(name, "--records") == 0) options.records = atoll(value);
        else if (strcmp(name, "--timeout") == 0) options.timeout = atof(value);
        else if (strcmp(name, "--stats-file") == 0) options.stats_path = value;
        else if (strcmp(name, "--set") == 0 && options.setting_count < SETTINGS_MAX) {
            options.settings[options.setting_count++] = value;
        } else usage();
    }
    if (!options.brokers || options.partitions < 1 || options.record_bytes < 1 ||
        (size_t)options.record_bytes >= PAYLOAD_POOL_BYTES)
        usage();
    if (strcmp(options.mode, "produce") == 0) return run_produce(&options);
    if (strcmp(options.mode, "latency") == 0) return run_latency(&options);
    if (strcmp(options.mode, "consume") == 0) return run_consume(&options);
    usage();
    return 2;
}
