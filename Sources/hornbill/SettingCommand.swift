import ArgumentParser
import Foundation
import ManagerClient

/// `hornbill setting list|get|set`: the manager's settings over its REST API.
struct SettingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setting",
        abstract: "List, show and change the manager's settings.",
        subcommands: [List.self, Get.self, SetValue.self])

    static func table(_ settings: [SettingItem]) -> TextTable {
        TextTable(
            headers: ["NAME", "VALUE", "DEFAULT", "APPLIED"],
            rows: settings.map { [$0.name, $0.value, $0.definition.defaultValue, $0.applied ? "true" : "false"] })
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every setting with its value.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let data = try await client.get("/v1/settings")
                if options.output == .json { return try printJSON(data) }
                let settings = try decodeAnswer(APICollection<SettingItem>.self, data, what: "settings collection")
                print(SettingCommand.table(settings.data).rendered, terminator: "")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one setting.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The setting's name, e.g. v2-data-engine.") var name: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let data = try await client.get("/v1/settings/\(pathSegment(name))")
                if options.output == .json { return try printJSON(data) }
                let setting = try decodeAnswer(SettingItem.self, data, what: "setting")
                print(SettingCommand.table([setting]).rendered, terminator: "")
            }
        }
    }

    struct SetValue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change one setting.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The setting's name.") var name: String
        @Argument(help: "The new value.") var value: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let body = try JSONEncoder().encode(["value": value])
                let data = try await client.put("/v1/settings/\(pathSegment(name))", body: body)
                if options.output == .json { return try printJSON(data) }
                let setting = try decodeAnswer(SettingItem.self, data, what: "setting")
                print(SettingCommand.table([setting]).rendered, terminator: "")
            }
        }
    }
}
