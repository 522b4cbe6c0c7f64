import Vapor

/// Request and response bodies of `/api/auth`. Optional fields are decoded leniently and checked
/// by `AccountService`, so a missing field gets a clear message rather than a decoding error.
enum AuthDTO {
    struct Register: Content {
        var email: String?
        var phoneNumber: String?
        var username: String
        var password: String
        var displayName: String?
    }

    struct RegisterResponse: Content {
        var message: String
        var userId: String
        var verificationMethod: String
    }

    struct VerifyCode: Content {
        var userId: UUID
        var code: String
    }

    struct Resend: Content {
        var userId: UUID
        var method: String?
    }

    struct Login: Content {
        var email: String
        var password: String
        var verificationMethod: String?
        var loginVerificationCode: String?
        var twoFactorCode: String?
    }

    struct LoginVerify: Content {
        var userId: UUID
        var code: String
        var twoFactorCode: String?
    }

    /// Every shape `/login` and `/login/verify` can answer with; absent keys are omitted.
    struct LoginResponse: Content {
        var message: String?
        var token: String?
        var user: UserDTO?
        var requiresEmailVerification: Bool?
        var requiresPhoneVerification: Bool?
        var requiresLoginVerification: Bool?
        var requiresTwoFactor: Bool?
        var verificationMethod: String?
        var userId: String?
        /// With `requiresTwoFactor`: `invalid_totp` when the code given was wrong (not missing).
        var error: String?
    }

    struct ForgotPassword: Content { var email: String }

    struct ResetPassword: Content {
        var email: String
        var code: String
        var newPassword: String
    }

    struct TwoFactorToken: Content { var token: String }

    struct TwoFactorSetup: Content {
        var secret: String
        var otpauthUrl: String
        var qrCode: String
    }

    struct Message: Content {
        var message: String
    }

    static func channel(_ raw: String?) throws -> CodeDelivery.Channel? {
        guard let raw else { return nil }
        guard let channel = CodeDelivery.Channel(rawValue: raw.lowercased()) else {
            throw ChatrError.badRequest("verificationMethod must be \"email\" or \"sms\"", code: "invalid_method")
        }
        return channel
    }
}
