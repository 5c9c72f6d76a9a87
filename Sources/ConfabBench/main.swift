// Micro-benchmarks, run with `swift run -c release ConfabBench [filter]`.
let filter = CommandLine.arguments.dropFirst().first
runCodecBenchmarks(filter: filter)
runChatBenchmarks(filter: filter)
