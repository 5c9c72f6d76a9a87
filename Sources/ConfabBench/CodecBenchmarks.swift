func runCodecBenchmarks(filter: String?) {}
