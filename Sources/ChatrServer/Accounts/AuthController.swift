import Vapor

/// `/api/auth` (SPEC §4). Each handler decodes, calls `AccountService` or `TwoFactorService`,
/// and encodes; the rules live in the services.
struct AuthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let auth = routes.grouped("api", "auth")
        let limited = auth.grouped(AuthRateLimitMiddleware())
        limited.post("register", use: Self.register)
        limited.post("verify-email", use: Self.verifyEmail)
        limited.post("verify-phone", use: Self.verifyPhone)
        limited.post("resend-verification", use: Self.resend)
        limited.post("login", use: Self.login)
        limited.post("login", "verify", use: Self.loginVerify)
        limited.post("forgot-password", use: Self.forgotPassword)
        limited.post("reset-password", use: Self.resetPassword)

        let secured = auth.grouped(UserAuthMiddleware())
        secured.post("2fa", "setup", use: Self.setupTwoFactor)
        secured.post("2fa", "verify", use: Self.verifyTwoFactor)
        secured.post("2fa", "disable", use: Self.disableTwoFactor)
        secured.post("logout", use: Self.logout)
    }

    static func accounts(_ req: Request) -> AccountService { AccountService(services: req.chatr, db: req.db) }

    @Sendable static func register(_ req: Request) async throws -> Response {
        let body = try req.content.decode(AuthDTO.Register.self)
        let (user, method) = try await accounts(req).register(.init(email: body.email, phoneNumber: body.phoneNumber, username: body.username,
                                                                   password: body.password, displayName: body.displayName))
        let where_ = method == .email ? "email" : "phone"
        return try await AuthDTO.RegisterResponse(message: "Account created. Enter the 6-digit code we sent to your \(where_).",
                                                  userId: user.id!.wire, verificationMethod: method.rawValue)
            .encodeResponse(status: .created, for: req)
    }

    @Sendable static func verifyEmail(_ req: Request) async throws -> AuthDTO.LoginResponse {
        try await verify(req, purpose: .email)
    }

    @Sendable static func verifyPhone(_ req: Request) async throws -> AuthDTO.LoginResponse {
        try await verify(req, purpose: .phone)
    }

    private static func verify(_ req: Request, purpose: VerificationCode.Purpose) async throws -> AuthDTO.LoginResponse {
        let body = try req.content.decode(AuthDTO.VerifyCode.self)
        let signedIn = try await accounts(req).verifyContact(userID: body.userId, code: body.code, purpose: purpose,
                                                             userAgent: req.headers.first(name: .userAgent))
        return signedInResponse(signedIn, message: purpose == .email ? "Email verified" : "Phone number verified", req: req)
    }

    @Sendable static func resend(_ req: Request) async throws -> AuthDTO.LoginResponse {
        let body = try req.content.decode(AuthDTO.Resend.self)
        let channel = try await accounts(req).resendVerification(userID: body.userId, method: try AuthDTO.channel(body.method))
        return AuthDTO.LoginResponse(message: "A new code is on its way", verificationMethod: channel.rawValue, userId: body.userId.wire)
    }

    @Sendable static func login(_ req: Request) async throws -> AuthDTO.LoginResponse {
        let body = try req.content.decode(AuthDTO.Login.self)
        let service = accounts(req)
        if let code = body.loginVerificationCode {
            let outcome = try await service.loginWithCode(identifier: body.email, password: body.password, code: code,
                                                          twoFactorCode: body.twoFactorCode, userAgent: req.headers.first(name: .userAgent),
                                                          source: req.clientAddress)
            return response(for: outcome, req: req)
        }
        switch try await service.login(identifier: body.email, password: body.password, method: try AuthDTO.channel(body.verificationMethod),
                                       source: req.clientAddress) {
        case .needsContactVerification(let user, let channel):
            return AuthDTO.LoginResponse(message: "Verify your account with the code we sent",
                                         requiresEmailVerification: channel == .email ? true : nil,
                                         requiresPhoneVerification: channel == .sms ? true : nil,
                                         verificationMethod: channel.rawValue, userId: user.id?.wire)
        case .needsLoginCode(let user, let channel):
            return AuthDTO.LoginResponse(message: "Enter the login code we sent", requiresLoginVerification: true,
                                         verificationMethod: channel.rawValue, userId: user.id?.wire)
        }
    }

    @Sendable static func loginVerify(_ req: Request) async throws -> AuthDTO.LoginResponse {
        let body = try req.content.decode(AuthDTO.LoginVerify.self)
        let outcome = try await accounts(req).verifyLogin(userID: body.userId, code: body.code, twoFactorCode: body.twoFactorCode,
                                                          userAgent: req.headers.first(name: .userAgent))
        return response(for: outcome, req: req)
    }

    @Sendable static func forgotPassword(_ req: Request) async throws -> AuthDTO.Message {
        let body = try req.content.decode(AuthDTO.ForgotPassword.self)
        await accounts(req).forgotPassword(identifier: body.email)
        return .init(message: "If an account exists for that address, a reset code is on its way")
    }

    @Sendable static func resetPassword(_ req: Request) async throws -> AuthDTO.Message {
        let body = try req.content.decode(AuthDTO.ResetPassword.self)
        try await accounts(req).resetPassword(identifier: body.email, code: body.code, newPassword: body.newPassword)
        return .init(message: "Password updated; sign in with your new password")
    }

    @Sendable static func setupTwoFactor(_ req: Request) async throws -> AuthDTO.TwoFactorSetup {
        let setup = try await TwoFactorService(services: req.chatr, db: req.db).setup(for: try req.currentUser)
        return .init(secret: setup.secret, otpauthUrl: setup.otpauthURL, qrCode: setup.qrCode)
    }

    @Sendable static func verifyTwoFactor(_ req: Request) async throws -> AuthDTO.Message {
        let body = try req.content.decode(AuthDTO.TwoFactorToken.self)
        try await TwoFactorService(services: req.chatr, db: req.db).enable(for: try req.currentUser, token: body.token)
        return .init(message: "Two-factor authentication enabled")
    }

    @Sendable static func disableTwoFactor(_ req: Request) async throws -> AuthDTO.Message {
        let body = try req.content.decode(AuthDTO.TwoFactorToken.self)
        try await TwoFactorService(services: req.chatr, db: req.db).disable(for: try req.currentUser, token: body.token)
        return .init(message: "Two-factor authentication disabled")
    }

    @Sendable static func logout(_ req: Request) async throws -> AuthDTO.Message {
        let session = try req.currentSessionID
        try await req.chatr.tokens.revoke(sessionID: session, on: req.db)
        try await req.chatr.push?.forget(session: session, on: req.db)
        req.chatr.events.publish([.disconnect(.session(session))])
        return .init(message: "Logged out")
    }

    private static func response(for outcome: AccountService.LoginVerifyOutcome, req: Request) -> AuthDTO.LoginResponse {
        switch outcome {
        case .signedIn(let signedIn):
            return signedInResponse(signedIn, message: "Logged in", req: req)
        case .needsTwoFactor(let user, wrongCode: false):
            return AuthDTO.LoginResponse(message: "Enter the code from your authenticator app", requiresTwoFactor: true, userId: user.id?.wire)
        case .needsTwoFactor(let user, wrongCode: true):
            return AuthDTO.LoginResponse(message: "That authenticator code is not right; try the current one", requiresTwoFactor: true,
                                         userId: user.id?.wire, error: "invalid_totp")
        }
    }

    private static func signedInResponse(_ signedIn: AccountService.SignedIn, message: String, req: Request) -> AuthDTO.LoginResponse {
        AuthDTO.LoginResponse(message: message, token: signedIn.token, user: UserDTO(signedIn.user, files: req.chatr.files))
    }
}

/// Per-IP limit on the unauthenticated auth routes (SPEC §4: 30 per minute by default).
struct AuthRateLimitMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let limits = request.chatr.config.rateLimits
        let ip = request.clientAddress
        if let retryAfter = request.chatr.rateLimiter.hit("auth-ip:" + ip, limit: limits.authPerIP, per: limits.authWindow) {
            throw ChatrError.tooManyRequests(retryAfter: retryAfter)
        }
        return try await next.respond(to: request)
    }
}
