// A VolumeAttachment as /v1/volumeattachments shows it: its volume and, per ticket, who asked
// for which node, with what parameters, and whether the ticket is satisfied.

import ManagerModel

enum AttachmentSchemas {
    static let volumeAttachment = APISchema(
        id: "volumeAttachment", pluralName: "volumeattachments", collectionMethods: ["GET"], resourceMethods: ["GET"],
        resourceFields: ["volume": .init("string"), "attachments": .init("map[json]")])

    static func resource(_ attachment: VolumeAttachment, links: APILinks) -> APIResource<AttachmentFields> {
        APIResource(
            id: attachment.metadata.name, type: "volumeAttachment", pluralName: "volumeattachments",
            fields: AttachmentFields(volume: attachment.spec.volume, attachment: attachment), links: links)
    }
}
