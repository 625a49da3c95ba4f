import Foundation
import ManagerModel
import Testing

@Suite struct ConditionTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    @Test func transitionTimeMovesOnlyWhenStatusChanges() {
        var conditions: [Condition] = []
        let added = conditions.setCondition(
            "Ready", status: .isFalse, reason: "NoDiskInfo", message: "disk is not in ready state", now: start)
        #expect(added)
        #expect(conditions.condition(ofType: "Ready")?.lastTransitionTime == "2027-01-15T08:00:00Z")

        // Same status, new reason: the reason changes, the transition time does not.
        let later = start.addingTimeInterval(60)
        let reasonChanged = conditions.setCondition("Ready", status: .isFalse, reason: "DiskNotReady", now: later)
        #expect(reasonChanged)
        #expect(conditions.condition(ofType: "Ready")?.reason == "DiskNotReady")
        #expect(conditions.condition(ofType: "Ready")?.lastTransitionTime == "2027-01-15T08:00:00Z")

        // Nothing new: nothing changes.
        let changedAgain = conditions.setCondition("Ready", status: .isFalse, reason: "DiskNotReady", now: later)
        #expect(!changedAgain)

        // Status flips: the transition time moves.
        let flipped = conditions.setCondition("Ready", status: .isTrue, now: start.addingTimeInterval(120))
        #expect(flipped)
        #expect(conditions.condition(ofType: "Ready")?.lastTransitionTime == "2027-01-15T08:02:00Z")
        #expect(conditions.isTrue("Ready"))
        #expect(conditions.count == 1)
    }

    @Test func conditionsOfOtherTypesAreKept() {
        var conditions: [Condition] = []
        conditions.setCondition("Ready", status: .isTrue, now: start)
        conditions.setCondition("Schedulable", status: .isFalse, reason: "DiskPressure", now: start)
        #expect(conditions.map(\.type) == ["Ready", "Schedulable"])
        #expect(!conditions.isTrue("Schedulable"))
        #expect(conditions.condition(ofType: "MountPropagation") == nil)
        #expect(!conditions.isTrue("MountPropagation"))
    }

    @Test func kubernetesTime() {
        #expect(KubernetesTime.format(start) == "2027-01-15T08:00:00Z")
        #expect(KubernetesTime.parse("2027-01-15T08:00:00Z") == start)
        #expect(KubernetesTime.parse("2027-01-15T08:00:00.5Z") == start.addingTimeInterval(0.5))
        #expect(KubernetesTime.parse("yesterday") == nil)
    }

    @Test func decodesLonghornShape() throws {
        let json = #"""
            {"type":"Ready","status":"True","lastProbeTime":"","lastTransitionTime":"2024-03-01T10:00:00Z",
             "reason":"","message":"Node longhorn-node-1 is ready"}
            """#
        let condition = try decode(Condition.self, json)
        #expect(condition.status == .isTrue)
        #expect(condition.message == "Node longhorn-node-1 is ready")
        #expect(try roundTrip(condition) == condition)
        #expect(try decode(Condition.self, #"{"type":"Ready"}"#).status == .unknown)
    }
}
