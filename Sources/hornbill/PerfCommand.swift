import ArgumentParser
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "perf")
}
