// Command load measures a real stickyd: it builds (or takes) the binary,
// starts `stickyd serve` on a temporary data directory, creates principals
// with `stickyd principal add`, and then measures, with concurrent clients
// over HTTP:
//
//   - stores per second (POST /v1/pii, a PPL policy and a small record, as the
//     data subject);
//   - permitted reads per second (GET /v1/pii/{id} with X-Purpose, as a
//     delegate): each one is decided by the PDP and its "accessed" event (and
//     the notification it triggers) is committed before the answer.
//
// It reports throughput and p50/p90/p99/max latency for each, and then checks
// that every permitted read left its event: the sum of "accessed" events over
// the records equals the number of successful reads.
//
// Usage: go run ./bench/load [-duration 10s] [-concurrency 16] [-stickyd PATH]
package main
