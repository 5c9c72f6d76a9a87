func runChatBenchmarks(filter: String?) {}
