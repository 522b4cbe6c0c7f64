import Foundation

/// The input rules for account fields (SPEC §2, §4), in one place for REST and any later caller.
enum CredentialRules {
    /// ≥ 8 characters, one uppercase letter, one special character.
    static func passwordProblem(_ password: String) -> String? {
        if password.count < 8 { return "Password must be at least 8 characters long" }
        if password.count > 128 { return "Password must be at most 128 characters long" }
        if !password.contains(where: { $0.isUppercase }) { return "Password must contain an uppercase letter" }
        if !password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) {
            return "Password must contain a special character"
        }
        return nil
    }

    /// `@` + 3–20 of `[A-Za-z0-9_]`; input with or without the `@`.
    static func normalizedUsername(_ input: String) -> String? {
        var name = input.trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("@") { name.removeFirst() }
        guard (3...20).contains(name.count),
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") })
        else { return nil }
        return "@" + name
    }

    static func normalizedEmail(_ input: String) -> String? {
        let email = input.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !email.contains(where: \.isWhitespace)
        else { return nil }
        return email
    }

    /// E.164: `+` and 8–15 digits. Spaces, dashes and brackets people type are dropped.
    static func normalizedPhone(_ input: String) -> String? {
        let kept = input.filter { !" -()".contains($0) }
        guard kept.hasPrefix("+") else { return nil }
        let digits = kept.dropFirst()
        guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else { return nil }
        return kept
    }

    static let maxDisplayName = 50
    /// A bio is a short line, like a status: longer text belongs in a message.
    static let maxBio = 160
    static let maxPersonName = 50
}
