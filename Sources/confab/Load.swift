import ArgumentParser
struct Load: ParsableCommand {
    func run() throws {}
}
