// The schema of one resource type, as go-rancher publishes it under /v1/schemas. A generic client
// (Longhorn's longhorn.py) binds its calls from these: list and by-id when GET is in
// `collectionMethods`, create for POST, update for PUT in `resourceMethods`, delete for DELETE,
// one call per `resourceActions` entry. `links.collection` is present whenever the collection can
// be listed.

public struct APISchema: Sendable, Equatable {
    /// A field of the resource: its type in go-rancher's notation ("string", "int", "boolean",
    /// "map[string]", "array[string]", "json", or another schema's id).
    public struct Field: Encodable, Sendable, Equatable {
        public var type: String
        public var nullable: Bool
        public var create: Bool
        public var update: Bool
        public init(_ type: String, nullable: Bool = false, create: Bool = false, update: Bool = false) {
            self.type = type
            self.nullable = nullable
            self.create = create
            self.update = update
        }
    }

    /// An action on the resource: the schema ids of its input and output.
    public struct Action: Encodable, Sendable, Equatable {
        public var input: String?
        public var output: String?
        public init(input: String? = nil, output: String? = nil) {
            self.input = input
            self.output = output
        }
    }

    public var id: String
    public var pluralName: String
    public var collectionMethods: [String]
    public var resourceMethods: [String]
    public var resourceFields: [String: Field]
    public var resourceActions: [String: Action]

    public init(
        id: String, pluralName: String, collectionMethods: [String] = ["GET"], resourceMethods: [String] = ["GET"],
        resourceFields: [String: Field] = [:], resourceActions: [String: Action] = [:]
    ) {
        self.id = id
        self.pluralName = pluralName
        self.collectionMethods = collectionMethods
        self.resourceMethods = resourceMethods
        self.resourceFields = resourceFields
        self.resourceActions = resourceActions
    }

    /// The collection can be listed.
    public var isListable: Bool { collectionMethods.contains("GET") }

    /// The schema as a resource of the `schemas` collection.
    func resource(links: APILinks) -> APIResource<SchemaFields> {
        var urls = ["self": links.schema(id)]
        if isListable { urls["collection"] = links.collection(pluralName) }
        return APIResource(id: id, type: "schema", links: urls, fields: SchemaFields(self))
    }

    /// The schemas every API has: `schema` itself and `error`.
    static let builtIn: [APISchema] = [
        APISchema(
            id: "schema", pluralName: "schemas",
            resourceFields: [
                "pluralName": Field("string"), "collectionMethods": Field("array[string]"),
                "resourceMethods": Field("array[string]"), "resourceFields": Field("map[json]"),
                "resourceActions": Field("map[json]"),
            ]),
        APISchema(
            id: "error", pluralName: "errors", collectionMethods: [], resourceMethods: [],
            resourceFields: [
                "status": Field("int"), "code": Field("string"), "message": Field("string"), "detail": Field("string"),
            ]),
    ]
}

/// A schema's fields in its resource.
struct SchemaFields: Encodable, Sendable {
    var pluralName: String
    var collectionMethods: [String]
    var resourceMethods: [String]
    var resourceFields: [String: APISchema.Field]
    var resourceActions: [String: APISchema.Action]
    var collectionActions: [String: APISchema.Action] = [:]
    var collectionFields: [String: APISchema.Field] = [:]
    var collectionFilters: [String: String] = [:]

    init(_ schema: APISchema) {
        pluralName = schema.pluralName
        collectionMethods = schema.collectionMethods
        resourceMethods = schema.resourceMethods
        resourceFields = schema.resourceFields
        resourceActions = schema.resourceActions
    }
}
