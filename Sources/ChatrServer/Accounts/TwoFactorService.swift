import Fluent
import Foundation

/// RFC 6238 two-factor authentication: setup hands out a secret and a scannable QR code,
/// verify turns it on, disable turns it off; both need a current code from the app.
struct TwoFactorService {
    let services: ChatrServices
    let db: any Database

    struct Setup { var secret: String; var otpauthURL: String; var qrCode: String }

    func setup(for user: User) async throws -> Setup {
        guard !user.twoFactorEnabled else {
            throw ChatrError.conflict("Two-factor authentication is already enabled", code: "two_factor_enabled")
        }
        let totp = TimeOTP(secret: RandomBytes.bytes(count: 20))
        user.twoFactorSecret = Base32.encode(totp.secret)
        try await user.save(on: db)
        let url = totp.provisioningURI(account: user.email ?? user.username, issuer: services.config.productName)
        let qr = try QRCode.encode(Array(url.utf8))
        return Setup(secret: user.twoFactorSecret!, otpauthURL: url, qrCode: qr.svgDataURL())
    }

    func enable(for user: User, token: String) async throws {
        guard !user.twoFactorEnabled else {
            throw ChatrError.conflict("Two-factor authentication is already enabled", code: "two_factor_enabled")
        }
        guard let secret = user.twoFactorSecret.flatMap(Base32.decode) else {
            throw ChatrError.badRequest("Start two-factor setup first", code: "two_factor_not_set_up")
        }
        guard TimeOTP(secret: secret).validate(token, at: services.clock.now) else {
            throw ChatrError.badRequest("Invalid authentication code", code: "invalid_totp")
        }
        user.twoFactorEnabled = true
        try await user.save(on: db)
    }

    func disable(for user: User, token: String) async throws {
        guard user.twoFactorEnabled, let secret = user.twoFactorSecret.flatMap(Base32.decode) else {
            throw ChatrError.badRequest("Two-factor authentication is not enabled", code: "two_factor_disabled")
        }
        guard TimeOTP(secret: secret).validate(token, at: services.clock.now) else {
            throw ChatrError.badRequest("Invalid authentication code", code: "invalid_totp")
        }
        user.twoFactorEnabled = false
        user.twoFactorSecret = nil
        try await user.save(on: db)
    }
}
