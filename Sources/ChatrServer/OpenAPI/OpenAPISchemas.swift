/// Reusable schemas of the OpenAPI document (`components.schemas`).
enum OpenAPISchemas {
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static let string: JSONValue = ["type": "string"]
    static let nullableString: JSONValue = ["type": ["string", "null"]]
    static let uuid: JSONValue = ["type": "string", "format": "uuid"]
    static let bool: JSONValue = ["type": "boolean"]
    static let dateTime: JSONValue = ["type": ["string", "null"], "format": "date-time"]

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
            "firstName": nullableString, "lastName": nullableString, "profileImage": nullableString, "coverImage": nullableString,
            "emailVerified": bool, "phoneVerified": bool, "twoFactorEnabled": bool, "showOnlineStatus": bool,
            "lastSeen": dateTime, "createdAt": dateTime,
        ], required: ["id", "username", "displayName"]),
        "PublicUser": object([
            "id": uuid, "username": string, "displayName": string, "firstName": nullableString, "lastName": nullableString,
            "profileImage": nullableString, "coverImage": nullableString, "showOnlineStatus": bool, "lastSeen": dateTime, "createdAt": dateTime,
        ], required: ["id", "username", "displayName"]),
        "RegisterRequest": object([
            "email": string, "phoneNumber": ["type": "string", "description": "E.164, e.g. +447700900123"],
            "username": ["type": "string", "description": "3–20 of [A-Za-z0-9_], with or without a leading @"],
            "password": ["type": "string", "description": "≥ 8 characters with an uppercase letter and a special character"],
            "displayName": string,
        ], required: ["username", "password"]),
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
        "LoginVerifyRequest": object(["userId": uuid, "code": string, "twoFactorCode": string], required: ["userId", "code"]),
        "AuthResponse": object([
            "message": string, "token": string, "user": ref("User"),
            "requiresEmailVerification": bool, "requiresPhoneVerification": bool, "requiresLoginVerification": bool,
            "requiresTwoFactor": bool, "verificationMethod": string, "userId": uuid,
        ]),
        "ForgotPasswordRequest": object(["email": ["type": "string", "description": "email, username or phone number"]], required: ["email"]),
        "ResetPasswordRequest": object(["email": string, "code": string, "newPassword": string], required: ["email", "code", "newPassword"]),
        "TwoFactorTokenRequest": object(["token": ["type": "string", "pattern": "^[0-9]{6}$"]], required: ["token"]),
        "TwoFactorSetup": object(["secret": string, "otpauthUrl": string, "qrCode": ["type": "string", "description": "data:image/svg+xml;base64,…"]],
                                 required: ["secret", "otpauthUrl", "qrCode"]),
        "ProfileUpdate": object(["displayName": string, "firstName": string, "lastName": string, "showOnlineStatus": bool]),
        "UserPage": object(["users": ["type": "array", "items": ref("PublicUser")], "nextCursor": ["type": ["string", "null"], "format": "uuid"]]),
        "UserList": object(["users": ["type": "array", "items": ref("PublicUser")]]),
        "Availability": object(["available": bool, "username": string, "reason": string], required: ["available"]),
        "Suggestions": object(["suggestions": ["type": "array", "items": string]], required: ["suggestions"]),
        "Health": object(["status": string, "timestamp": dateTime, "database": string], required: ["status", "timestamp", "database"]),
        "OutboxEntry": object(["channel": ["type": "string", "enum": ["email", "sms"]], "to": string, "subject": nullableString,
                               "body": string, "code": nullableString, "at": dateTime]),
    ]
}
