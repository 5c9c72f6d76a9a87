// Micro-benchmarks, run with `swift run -c release ConfabBench [filter]`.
// `fanout` (end to end, real binary) runs only when asked for by name; `crowd` (join cost
// as the room grows) runs with the others, or alone as `ConfabBench crowd`.
let filter = CommandLine.arguments.dropFirst().first
runCodecBenchmarks(filter: filter)
runChatBenchmarks(filter: filter)
runCrowdBenchmark(filter: filter)
runFanoutBenchmark(filter: filter)
