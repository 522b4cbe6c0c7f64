import Fluent
import SQLKit
import Vapor

/// The account rules of SPEC §4: registration, verification, login with a code step and 2FA,
/// password reset and logout. Controllers translate HTTP to these calls and back; nothing here
/// knows about requests, so later transports reuse it unchanged.
struct AccountService {
    let services: ChatrServices
    let db: any Database

    static let signupCodeLifetime: TimeInterval = 15 * 60
    static let loginCodeLifetime: TimeInterval = 10 * 60
    static let resetCodeLifetime: TimeInterval = 15 * 60

    struct Registration {
        var email: String?
        var phoneNumber: String?
        var username: String
        var password: String
        var displayName: String?
    }

    struct SignedIn { var token: String; var user: User }

    // MARK: Registration and verification

    func register(_ input: Registration) async throws -> (user: User, method: CodeDelivery.Channel) {
        let email = try input.email.map { raw -> String in
            guard let email = CredentialRules.normalizedEmail(raw) else { throw ChatrError.badRequest("Invalid email address", code: "invalid_email") }
            return email
        }
        let phone = try input.phoneNumber.map { raw -> String in
            guard let phone = CredentialRules.normalizedPhone(raw) else {
                throw ChatrError.badRequest("Invalid phone number; use international format like +447700900123", code: "invalid_phone")
            }
            return phone
        }
        guard email != nil || phone != nil else { throw ChatrError.badRequest("An email address or a phone number is required", code: "missing_contact") }
        guard let username = CredentialRules.normalizedUsername(input.username) else {
            throw ChatrError.badRequest("Username must be 3–20 letters, digits or underscores", code: "invalid_username")
        }
        if let problem = CredentialRules.passwordProblem(input.password) { throw ChatrError.badRequest(problem, code: "weak_password") }
        let displayName = input.displayName?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let displayName, displayName.textLength > CredentialRules.maxDisplayName {
            throw ChatrError.badRequest("Display name must be at most \(CredentialRules.maxDisplayName) characters", code: "invalid_display_name")
        }

        // Whoever already holds this email, phone or username: a verified owner keeps it (409);
        // an unverified leftover is replaced.
        let holders = try await User.query(on: db).group(.or) { group in
            group.filter(\.$usernameKey == username.lowercased())
            if let email { group.filter(\.$email == email) }
            if let phone { group.filter(\.$phoneNumber == phone) }
        }.all()
        for holder in holders where holder.isVerified {
            if holder.usernameKey == username.lowercased() {
                throw ChatrError(.conflict, "Username is already taken", code: "username_taken",
                                 details: ["field": "username"])
            }
            if email != nil && holder.email == email { throw ChatrError(.conflict, "Email is already registered", code: "email_taken", details: ["field": "email"]) }
            throw ChatrError(.conflict, "Phone number is already registered", code: "phone_taken", details: ["field": "phoneNumber"])
        }

        let hash = try await services.passwords.hash(input.password)
        let user = User(email: email, phoneNumber: phone, username: username,
                        displayName: (displayName?.isEmpty == false ? displayName! : String(username.dropFirst())), passwordHash: hash)
        try await db.transaction { db in
            for holder in holders { try await holder.delete(on: db) }
            try await user.create(on: db)
        }
        let method: CodeDelivery.Channel = email != nil ? .email : .sms
        try await sendCode(to: user, purpose: method == .email ? .email : .phone, via: method)
        return (user, method)
    }

    /// `verify-email` / `verify-phone`: the code proves the contact; verifying signs the user in.
    func verifyContact(userID: UUID, code: String, purpose: VerificationCode.Purpose, userAgent: String?) async throws -> SignedIn {
        guard let user = try await User.find(userID, on: db) else { throw ChatrError.badRequest("Invalid or expired code", code: "invalid_code") }
        try await services.codes.check(code, for: userID, purpose: purpose, on: db)
        if purpose == .email { user.emailVerified = true } else { user.phoneVerified = true }
        try await user.save(on: db)
        return SignedIn(token: try await services.tokens.issue(for: user, userAgent: userAgent, on: db), user: user)
    }

    /// Sends a fresh signup code (or, for a verified account, nothing to verify → 400).
    func resendVerification(userID: UUID, method: CodeDelivery.Channel?) async throws -> CodeDelivery.Channel {
        guard let user = try await User.find(userID, on: db) else { throw ChatrError.notFound("User not found") }
        guard !user.isVerified else { throw ChatrError.badRequest("This account is already verified", code: "already_verified") }
        let channel = try CodeDelivery.channel(for: user, preferred: method)
        try await sendCode(to: user, purpose: channel == .email ? .email : .phone, via: channel)
        return channel
    }

    // MARK: Login

    enum LoginOutcome {
        case needsContactVerification(User, CodeDelivery.Channel)
        case needsLoginCode(User, CodeDelivery.Channel)
    }

    /// `source` is the client's address: login limits are per account *and* source.
    func login(identifier: String, password: String, method: CodeDelivery.Channel?, source: String) async throws -> LoginOutcome {
        let user = try await checkPassword(identifier: identifier, password: password, source: source)
        if !user.isVerified {
            let channel = try CodeDelivery.channel(for: user, preferred: method)
            try await sendCode(to: user, purpose: channel == .email ? .email : .phone, via: channel, throttled: false)
            return .needsContactVerification(user, channel)
        }
        let channel = try CodeDelivery.channel(for: user, preferred: method)
        try await sendCode(to: user, purpose: .login, via: channel, throttled: false)
        return .needsLoginCode(user, channel)
    }

    enum LoginVerifyOutcome {
        case signedIn(SignedIn)
        /// `wrongCode`: a TimeOTP was given and was wrong (a client says so), not just missing.
        case needsTwoFactor(User, wrongCode: Bool)
    }

    /// The code step of login. With 2FA on, a missing or wrong TimeOTP leaves the login code valid
    /// (a wrong TimeOTP counts as one of its five attempts, so it cannot be guessed forever).
    func verifyLogin(userID: UUID, code: String, twoFactorCode: String?, userAgent: String?) async throws -> LoginVerifyOutcome {
        guard let user = try await User.find(userID, on: db) else { throw ChatrError.badRequest("Invalid or expired code", code: "invalid_code") }
        let record = try await services.codes.check(code, for: userID, purpose: .login, consume: false, on: db)
        if user.twoFactorEnabled {
            guard let twoFactorCode, !twoFactorCode.isEmpty else { return .needsTwoFactor(user, wrongCode: false) }
            guard let secret = user.twoFactorSecret.flatMap(Base32.decode),
                  TimeOTP(secret: secret).validate(twoFactorCode, at: services.clock.now) else {
                try await services.codes.recordFailure(record, on: db)
                return .needsTwoFactor(user, wrongCode: true)
            }
        }
        try await services.codes.consume(record, on: db)
        try await resetLoginAttempts(user.id!)
        return .signedIn(SignedIn(token: try await services.tokens.issue(for: user, userAgent: userAgent, on: db), user: user))
    }

    /// The original Chatr's one-request form: credentials and `loginVerificationCode` together.
    func loginWithCode(identifier: String, password: String, code: String, twoFactorCode: String?, userAgent: String?,
                       source: String) async throws -> LoginVerifyOutcome {
        let user = try await checkPassword(identifier: identifier, password: password, source: source)
        return try await verifyLogin(userID: user.id!, code: code, twoFactorCode: twoFactorCode, userAgent: userAgent)
    }

    // MARK: Password reset

    /// Always succeeds from the caller's point of view, so it cannot tell who has an account.
    func forgotPassword(identifier: String) async {
        do {
            guard let user = try await findUser(byIdentifier: identifier) else { return }
            let channel = try CodeDelivery.channel(for: user, preferred: nil)
            try await sendCode(to: user, purpose: .passwordReset, via: channel)
        } catch {
            services.delivery.logger.warning("forgot-password for an existing account sent nothing: \(error)")
        }
    }

    func resetPassword(identifier: String, code: String, newPassword: String) async throws {
        if let problem = CredentialRules.passwordProblem(newPassword) { throw ChatrError.badRequest(problem, code: "weak_password") }
        guard let user = try await findUser(byIdentifier: identifier) else {
            throw ChatrError.badRequest("Invalid or expired code", code: "invalid_code")
        }
        try await services.codes.check(code, for: user.id!, purpose: .passwordReset, on: db)
        user.passwordHash = try await services.passwords.hash(newPassword)
        try await user.save(on: db)
        try await services.tokens.revokeAll(userID: user.id!, on: db)
        services.events.publish([.disconnect(.user(user.id!))])
    }

    // MARK: Helpers

    /// An email, a username (with or without `@`) or a phone number.
    func findUser(byIdentifier raw: String) async throws -> User? {
        let identifier = raw.trimmingCharacters(in: .whitespaces)
        if identifier.contains("@"), !identifier.hasPrefix("@"), let email = CredentialRules.normalizedEmail(identifier) {
            return try await User.query(on: db).filter(\.$email == email).first()
        }
        if identifier.hasPrefix("+"), let phone = CredentialRules.normalizedPhone(identifier) {
            return try await User.query(on: db).filter(\.$phoneNumber == phone).first()
        }
        guard let username = CredentialRules.normalizedUsername(identifier) else { return nil }
        return try await User.query(on: db).filter(\.$usernameKey == username.lowercased()).first()
    }

    /// `chatr user disable`: the right password still does not sign in.
    static func refuseIfDisabled(_ user: User) throws {
        guard user.disabledAt == nil else { throw ChatrError(.forbidden, "This account is disabled; ask the administrator", code: "account_disabled") }
    }

    /// The limits, then the password. A wrong one counts against the source's back-off.
    private func checkPassword(identifier: String, password: String, source: String) async throws -> User {
        if let wait = services.loginBackoff.wait(for: source) {
            throw ChatrError.tooManyRequests(retryAfter: wait, "Too many failed logins from your address; try again later")
        }
        let user = try await findUser(byIdentifier: identifier)
        try await limitLoginAttempts(key: Self.loginKey(user?.id?.uuidString ?? identifier, from: source))
        guard await services.passwords.verify(password, against: user?.passwordHash), let user else {
            services.loginBackoff.recordFailure(from: source)
            throw ChatrError.unauthorized("Invalid credentials")
        }
        try Self.refuseIfDisabled(user)
        return user
    }

    /// Keyed by account *and* source: ten wrong passwords for someone else's account lock out
    /// the address that typed them, not the account's owner.
    static func loginKey(_ account: String, from source: String) -> String { "login:" + account.lowercased() + "|" + source }

    /// In cluster mode counted in the database, so every node sees every attempt.
    private func limitLoginAttempts(key: String) async throws {
        let limits = services.config.rateLimits
        let retryAfter = if let shared = sharedLimitDatabase {
            try await SharedRateLimit.hit(key, limit: limits.loginPerAccount, per: limits.loginWindow, on: shared)
        } else {
            services.rateLimiter.hit(key, limit: limits.loginPerAccount, per: limits.loginWindow)
        }
        if let retryAfter { throw ChatrError.tooManyRequests(retryAfter: retryAfter, "Too many login attempts; try again later") }
    }

    /// After a sign-in: the account's counters from every source start again.
    private func resetLoginAttempts(_ user: UUID) async throws {
        let prefix = "login:" + user.uuidString.lowercased() + "|"
        if let shared = sharedLimitDatabase { try await SharedRateLimit.reset(prefix: prefix, on: shared) } else { services.rateLimiter.reset(prefix: prefix) }
    }

    private var sharedLimitDatabase: (any SQLDatabase)? { services.config.cluster ? db as? any SQLDatabase : nil }

    /// Issues and sends a code. Throttled sends allow one code per user and purpose per `resendInterval`.
    private func sendCode(to user: User, purpose: VerificationCode.Purpose, via channel: CodeDelivery.Channel, throttled: Bool = true) async throws {
        let userID = try user.requireID()
        if throttled, let last = try await services.codes.lastIssue(for: userID, purpose: purpose, on: db) {
            let wait = services.config.rateLimits.resendInterval - services.clock.now.timeIntervalSince(last)
            if wait > 0 { throw ChatrError.tooManyRequests(retryAfter: Int(wait.rounded(.up)), "Please wait before requesting another code") }
        }
        let lifetime: TimeInterval
        let kind: CodeMessage.Kind
        switch purpose {
        case .email: (lifetime, kind) = (Self.signupCodeLifetime, .verifyEmail)
        case .phone: (lifetime, kind) = (Self.signupCodeLifetime, .verifyPhone)
        case .login: (lifetime, kind) = (Self.loginCodeLifetime, .login)
        case .passwordReset: (lifetime, kind) = (Self.resetCodeLifetime, .passwordReset)
        }
        let code = try await services.codes.issue(for: userID, purpose: purpose, validFor: lifetime, on: db)
        try await services.delivery.send(kind, code: code, validMinutes: Int(lifetime / 60), to: user, via: channel)
    }
}
