/// Reusable schemas of the OpenAPI document (`components.schemas`).
enum OpenAPISchemas {
    /// Every plain string schema of the document says what the server enforces at its doors:
    /// no U+0000 (`NULText`). Strings with a format, an enum or a pattern of their own already
    /// exclude it.
    static func refusingNUL(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map(refusingNUL))
        case .object(var object):
            for (key, child) in object { object[key] = refusingNUL(child) }
            let isString = object["type"] == .string("string") || object["type"] == .array([.string("string"), .string("null")])
            if isString, object["format"] == nil, object["enum"] == nil, object["pattern"] == nil, object["const"] == nil {
                object["pattern"] = .string("^[^\\u0000]*$")
            }
            return .object(object)
        default:
            return value
        }
    }

    /// Text that must say something (a name, a message): not only whitespace, and no U+0000 —
    /// a pattern of its own, so `refusingNUL` leaves it alone and it has to exclude NUL itself.
    static let nonBlankText: JSONValue = .string("^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static let string: JSONValue = ["type": "string"]
    static let nullableString: JSONValue = ["type": ["string", "null"]]
    static let uuid: JSONValue = ["type": "string", "format": "uuid"]
    static let bool: JSONValue = ["type": "boolean"]
    static let dateTime: JSONValue = ["type": ["string", "null"], "format": "date-time"]

    /// Request bodies decode `null` as a missing key (Codable's optionals): an optional property
    /// of an object says so by allowing `null` too. Required properties, response-only schemas
    /// (which have no optional property typed otherwise) and `$ref`s are left as they are.
    static func optionalsAcceptNull(_ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema, case .object(var properties)? = fields["properties"] else { return schema }
        var required: Set<String> = []
        if case .array(let names)? = fields["required"] {
            for case .string(let name) in names { required.insert(name) }
        }
        for (name, property) in properties where !required.contains(name) {
            guard case .object(var spec) = property, let type = spec["type"] else { continue }
            switch type {
            case .string(let single): spec["type"] = [.string(single), "null"]
            case .array(let types) where !types.contains("null"): spec["type"] = .array(types + ["null"])
            default: continue
            }
            properties[name] = .object(spec)
        }
        fields["properties"] = .object(properties)
        return .object(fields)
    }

    /// A one-time code: six digits.
    static let code: JSONValue = ["type": "string", "pattern": "^[0-9]{6}$"]

    /// `schema`, with exactly one of `keys` present.
    static func exactlyOne(of keys: [String], _ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema else { return schema }
        fields["oneOf"] = .array(keys.map { ["required": [.string($0)]] })
        return .object(fields)
    }

    /// `schema`, with at least one of `keys` present.
    static func oneOrMore(of keys: [String], _ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema else { return schema }
        fields["anyOf"] = .array(keys.map { ["required": [.string($0)]] })
        return .object(fields)
    }

    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    static let all: [String: JSONValue] = [
        "Error": object(["error": string, "code": string, "details": ["type": "object", "additionalProperties": string]], required: ["error"]),
        "Message": object(["message": string], required: ["message"]),
        "User": object([
            "id": uuid, "email": nullableString, "phoneNumber": nullableString, "username": string, "displayName": string,
            "firstName": nullableString, "lastName": nullableString, "bio": nullableString, "profileImage": nullableString,
            "coverImage": nullableString, "emailVerified": bool, "phoneVerified": bool, "twoFactorEnabled": bool, "showOnlineStatus": bool,
            "lastSeen": dateTime, "createdAt": dateTime,
        ], required: ["id", "username", "displayName"]),
        "PublicUser": object([
            "id": uuid, "username": string, "displayName": string, "firstName": nullableString, "lastName": nullableString,
            "bio": nullableString, "profileImage": nullableString, "coverImage": nullableString, "showOnlineStatus": bool,
            "lastSeen": dateTime, "createdAt": dateTime,
        ], required: ["id", "username", "displayName"]),
        "RegisterRequest": oneOrMore(of: ["email", "phoneNumber"], object([
            "email": ["type": "string", "format": "email"], "phoneNumber": ["type": "string", "description": "E.164, e.g. +447700900123"],
            "username": ["type": "string", "pattern": "^@?[A-Za-z0-9_]{3,20}$", "description": "3–20 of [A-Za-z0-9_], with or without a leading @"],
            "password": ["type": "string", "minLength": 8, "maxLength": 128,
                         "description": "8–128 characters with an uppercase letter and a special character"],
            "displayName": ["type": "string", "maxLength": 50],
        ], required: ["username", "password"])),
        "RegisterResponse": object(["message": string, "userId": uuid, "verificationMethod": ["type": "string", "enum": ["email", "sms"]]],
                                   required: ["message", "userId", "verificationMethod"]),
        "VerifyCodeRequest": object(["userId": uuid, "code": ["type": "string", "pattern": "^[0-9]{6}$"]], required: ["userId", "code"]),
        "ResendRequest": object(["userId": uuid, "method": ["type": "string", "enum": ["email", "sms"]]], required: ["userId"]),
        "LoginRequest": object([
            "email": ["type": "string", "description": "email, username or phone number"], "password": string,
            "verificationMethod": ["type": "string", "enum": ["email", "sms"]],
            "loginVerificationCode": ["type": "string", "description": "the original Chatr's one-step form"],
            "twoFactorCode": string,
        ], required: ["email", "password"]),
        "LoginVerifyRequest": object(["userId": uuid, "code": code, "twoFactorCode": string], required: ["userId", "code"]),
        "AuthResponse": object([
            "message": string, "token": string, "user": ref("User"),
            "requiresEmailVerification": bool, "requiresPhoneVerification": bool, "requiresLoginVerification": bool,
            "requiresTwoFactor": bool, "verificationMethod": string, "userId": uuid,
        ]),
        "ForgotPasswordRequest": object(["email": ["type": "string", "description": "email, username or phone number"]], required: ["email"]),
        "ResetPasswordRequest": object(["email": string, "code": code,
                                        "newPassword": ["type": "string", "minLength": 8, "maxLength": 128,
                                                        "description": "as at sign-up: an uppercase letter and a special character"]],
                                       required: ["email", "code", "newPassword"]),
        "TwoFactorTokenRequest": object(["token": ["type": "string", "pattern": "^[0-9]{6}$"]], required: ["token"]),
        "TwoFactorSetup": object(["secret": string, "otpauthUrl": string, "qrCode": ["type": "string", "description": "data:image/svg+xml;base64,…"]],
                                 required: ["secret", "otpauthUrl", "qrCode"]),
        // null, like a missing key, leaves the field as it is.
        "ProfileUpdate": object(["displayName": ["type": ["string", "null"], "minLength": 1, "maxLength": 50, "pattern": nonBlankText],
                                 "firstName": ["type": ["string", "null"], "maxLength": 50], "lastName": ["type": ["string", "null"], "maxLength": 50],
                                 "bio": ["type": ["string", "null"], "maxLength": 160,
                                         "description": "at most 160 characters; empty clears it; blank lines are squeezed"],
                                 "showOnlineStatus": ["type": ["boolean", "null"]]]),
        "UserPage": object(["users": ["type": "array", "items": ref("PublicUser")], "nextCursor": ["type": ["string", "null"], "format": "uuid"]]),
        "UserList": object(["users": ["type": "array", "items": ref("PublicUser")]]),
        "Availability": object(["available": bool, "username": string, "reason": string], required: ["available"]),
        "Suggestions": object(["suggestions": ["type": "array", "items": string]], required: ["suggestions"]),
        "ClientConfig": object(["mode": ["type": "string", "enum": ["development", "testing", "production"]], "maxUploadBytes": ["type": "integer", "minimum": 1],
                                "maxMessageLength": ["type": "integer", "minimum": 1], "uploadTypes": ["type": "array", "items": string]],
                               required: ["mode", "maxUploadBytes", "maxMessageLength", "uploadTypes"]),
        "Health": object(["status": string, "timestamp": dateTime, "database": string], required: ["status", "timestamp", "database"]),
        "Readiness": object(["status": string, "database": string, "cluster": string, "nodes": ["type": "integer"]],
                            required: ["status", "database", "cluster", "nodes"]),
        "ChatMessage": object([
            "id": uuid, "conversationId": uuid, "senderId": uuid, "senderUsername": string, "senderDisplayName": string,
            "senderProfileImage": nullableString, "recipientId": ["type": ["string", "null"], "format": "uuid"],
            "groupId": ["type": ["string", "null"], "format": "uuid"], "clientMessageId": nullableString, "content": string,
            "type": ["type": "string", "enum": ["text", "image", "file", "audio", "voice", "video", "system"]],
            "status": ["type": "string", "enum": ["sent", "delivered", "read", "listening", "listened"]],
            "isRead": bool, "readAt": dateTime, "createdAt": dateTime, "edited": bool, "editedAt": dateTime, "unsent": bool,
            "fileUrl": nullableString, "fileName": nullableString, "fileSize": ["type": ["integer", "null"]], "fileType": nullableString,
            "caption": nullableString, "waveform": ["type": ["array", "null"], "items": ["type": "number"]], "duration": ["type": ["number", "null"]],
            "imageWidth": ["type": ["integer", "null"]], "imageHeight": ["type": ["integer", "null"]],
            "reactions": ["type": "array", "items": object(["userId": uuid, "username": string, "emoji": string])],
            "replyTo": ["oneOf": [["type": "null"], object(["id": uuid, "content": string, "senderDisplayName": nullableString,
                                                             "type": nullableString, "duration": ["type": ["number", "null"]]])]],
        ], required: ["id", "conversationId", "senderId", "content", "type", "status", "createdAt"]),
        "History": object(["messages": ["type": "array", "items": ref("ChatMessage")], "hasMore": bool, "hasMoreAfter": bool],
                          required: ["messages", "hasMore"]),
        "ConversationList": object(["conversations": ["type": "array", "items": ref("ConversationItem")]], required: ["conversations"]),
        "ConversationItem": object([
            "conversationId": uuid, "kind": ["type": "string", "enum": ["direct", "group"]],
            "user": ["oneOf": [["type": "null"], ref("PublicUser")]],
            "group": ["oneOf": [["type": "null"], object(["id": uuid, "name": string, "description": nullableString,
                                                           "avatar": nullableString, "memberCount": ["type": "integer"]])]],
            "lastMessage": ["oneOf": [["type": "null"], ref("ChatMessage")]], "lastMessageAt": dateTime,
            "unreadCount": ["type": "integer", "minimum": 0, "maximum": 1000, "description": "exact up to 999; 1000 means 1,000 or more"],
            "mutedUntil": dateTime,
        ]),
        "LinkPreview": object(["url": string, "title": nullableString, "description": nullableString, "siteName": nullableString,
                               "image": ["type": ["string", "null"], "description": "the picture through this server, or null"]],
                              required: ["url", "title", "description", "siteName", "image"]),
        "GroupInvite": object(["token": string, "groupId": uuid, "url": string, "createdBy": uuid,
                               "createdAt": ["type": "string", "format": "date-time"], "expiresAt": dateTime,
                               "maxUses": ["type": ["integer", "null"]], "uses": ["type": "integer"]],
                              required: ["token", "groupId", "url", "createdBy", "createdAt", "expiresAt", "maxUses", "uses"]),
        "InvitePreview": object(["group": object(["id": uuid, "name": string, "description": nullableString, "avatar": nullableString,
                                                  "memberCount": ["type": "integer"]], required: ["id", "name", "memberCount"]),
                                 "expiresAt": dateTime, "alreadyMember": bool], required: ["group", "alreadyMember"]),
        "ConversationMute": object(["conversationId": uuid, "mutedUntil": dateTime], required: ["conversationId", "mutedUntil"]),
        "PushSubscription": object(["id": uuid, "endpoint": string, "previews": bool, "createdAt": ["type": "string", "format": "date-time"]],
                                   required: ["id", "endpoint", "previews", "createdAt"]),
        "PushSubscriptionRequest": object([
            "endpoint": ["type": "string", "maxLength": 2048, "description": "the push service URL PushManager.subscribe gave (https; http and local hosts outside production)"],
            "keys": object(["p256dh": ["type": "string", "description": "base64url, 65-byte uncompressed P-256 point"],
                            "auth": ["type": "string", "description": "base64url, 16 bytes"]], required: ["p256dh", "auth"]),
            "previews": ["type": "boolean", "description": "show who wrote and what (default true); off: just \"New message\""],
        ], required: ["endpoint", "keys"]),
        "SearchPage": object([
            "results": ["type": "array", "items": object([
                "conversation": object([
                    "id": uuid, "kind": ["type": "string", "enum": ["direct", "group"]],
                    "user": ["oneOf": [["type": "null"], ref("PublicUser")]],
                    "group": ["oneOf": [["type": "null"], object(["id": uuid, "name": string, "avatar": nullableString], required: ["id", "name"])]],
                ], required: ["id", "kind", "user", "group"]),
                "message": ref("ChatMessage"),
                "snippet": ["oneOf": [["type": "null"], object([
                    "field": ["type": "string", "enum": ["content", "fileName", "caption"]], "text": string,
                    "highlights": ["type": "array", "items": object(["start": ["type": "integer", "minimum": 0], "length": ["type": "integer", "minimum": 1]],
                                                                     required: ["start", "length"])],
                ], required: ["field", "text", "highlights"])]],
            ], required: ["conversation", "message", "snippet"])],
            "nextCursor": nullableString,
        ], required: ["results", "nextCursor"]),
        "SyncPage": object([
            "changes": ["type": "array", "items": ["oneOf": [
                object(["cursor": string, "type": ["type": "string", "enum": ["message"]], "message": ref("ChatMessage")], required: ["cursor", "type", "message"]),
                object(["cursor": string, "type": ["type": "string", "enum": ["conversation"]], "conversation": ref("ConversationItem")],
                       required: ["cursor", "type", "conversation"]),
                object(["cursor": string, "type": ["type": "string", "enum": ["conversation:removed"]], "conversationId": uuid],
                       required: ["cursor", "type", "conversationId"]),
            ]]],
            "cursor": ["type": "string", "description": "where the next page (or the next sync) starts"],
            "hasMore": bool,
        ], required: ["changes", "cursor", "hasMore"]),
        "SendMessageRequest": exactlyOne(of: ["recipientId", "groupId", "conversationId"], object([
            "recipientId": uuid, "groupId": uuid, "conversationId": uuid, "content": ["type": "string", "minLength": 1, "maxLength": 10000, "pattern": nonBlankText],
            "type": ["type": "string", "enum": ["text"]], "clientMessageId": ["type": "string", "minLength": 1, "maxLength": 100], "replyToId": uuid,
        ], required: ["content"])),
        "ReadRequest": exactlyOne(of: ["conversationId", "otherUserId", "groupId"], object(["conversationId": uuid, "otherUserId": uuid, "groupId": uuid,
                               "upToMessageId": ["type": "string", "format": "uuid", "description": "default: the newest message"]])),
        "EditHistory": object(["messageId": uuid, "edits": ["type": "array", "items": object([
            "id": uuid, "previousContent": string, "editedAt": dateTime,
            "editedBy": object(["id": uuid, "username": string, "displayName": string]),
        ])]], required: ["messageId", "edits"]),
        "Group": object([
            "id": uuid, "name": string, "description": nullableString, "avatar": nullableString, "ownerId": uuid,
            "memberCount": ["type": "integer"], "myRole": ["type": "string", "enum": ["owner", "admin", "member"]],
            "members": ["type": "array", "items": object(["user": ref("PublicUser"), "role": string, "joinedAt": dateTime])],
            "createdAt": dateTime, "lastMessageAt": dateTime,
        ], required: ["id", "name", "memberCount"]),
        "CreateGroupRequest": object(["name": ["type": "string", "minLength": 1, "maxLength": 100, "pattern": nonBlankText],
                                      "description": ["type": ["string", "null"], "maxLength": 500],
                                      "memberIds": ["type": "array", "items": uuid]], required: ["name"]),
        "UploadResult": object([
            "success": bool, "messageId": uuid, "message": ref("ChatMessage"), "fileUrl": string, "fileName": string,
            "fileSize": ["type": "integer"], "fileType": string, "waveform": ["type": ["array", "null"], "items": ["type": "number"]],
            "duration": ["type": ["number", "null"]], "needsWaveformGeneration": bool,
        ], required: ["success", "messageId", "message"]),
        "OutboxEntry": object(["channel": ["type": "string", "enum": ["email", "sms"]], "to": string, "subject": nullableString,
                               "body": string, "code": nullableString, "at": dateTime]),
    ]
}
