// Micro-benchmarks, run with `swift run -c release ConfabBench [filter]`.
// `fanout` (end to end, real binary) runs only when asked for by name.
let filter = CommandLine.arguments.dropFirst().first
runCodecBenchmarks(filter: filter)
runChatBenchmarks(filter: filter)
runFanoutBenchmark(filter: filter)
