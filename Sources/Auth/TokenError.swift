/// Why a presented token was refused. Every case answers 401; the detail goes to logs, not to clients.
public enum TokenError: Error, Sendable, Equatable {
    case malformed
    case unsupportedAlgorithm
    case unknownKeyID
    case badSignature
    case wrongIssuer
    case wrongAudience
    case expired
    case notYetValid
    case revoked
}
