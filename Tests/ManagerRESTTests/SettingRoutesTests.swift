import Foundation
import ManagerModel
import ManagerStore
import Testing

/// The settings API over the SQLite store, each test with a store of its own in a new directory.
@Suite struct SettingRoutesTests {
    private func withStore(_ body: (SettingRoutesChecks) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-settings-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        try await body(SettingRoutesChecks(store: store))
    }

    @Test func listShowsEverySettingWithItsDefinition() async throws {
        try await withStore { try await $0.listShowsEverySettingWithItsDefinition() }
    }

    @Test func getReturnsTheDefaultOr404() async throws {
        try await withStore { try await $0.getReturnsTheDefaultOr404() }
    }

    @Test func putValidatesNormalizesAndStores() async throws {
        try await withStore { try await $0.putValidatesNormalizesAndStores() }
    }

    @Test func anInvalidValueIs400AndChangesNothing() async throws {
        try await withStore { try await $0.anInvalidValueIs400AndChangesNothing() }
    }

    @Test func theChangeValidatorCanRefuse() async throws {
        try await withStore { try await $0.theChangeValidatorCanRefuse() }
    }

    @Test func aWriteThatLostARaceIsRetriedOnTheNewVersion() async throws {
        try await withStore { try await $0.aWriteThatLostARaceIsRetriedOnTheNewVersion() }
    }
}
