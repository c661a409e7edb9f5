import Crypto
import Foundation

/// Seals secrets at rest with AES-256-GCM under the master key (`CP_MASTER_KEY`). A sealed value is
/// nonce, ciphertext and tag; tampering or a wrong key makes `open` throw.
public struct SecretBox: Sendable {
    public enum KeyError: Error, CustomStringConvertible {
        case invalidMasterKey
        public var description: String {
            "CP_MASTER_KEY must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)"
        }
    }

    fileprivate let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// Reads a base64-encoded 32-byte master key.
    public init(base64MasterKey: String) throws {
        guard let data = Data(base64Encoded: base64MasterKey.trimmingCharacters(in: .whitespacesAndNewlines)),
            data.count == 32
        else { throw KeyError.invalidMasterKey }
        self.key = SymmetricKey(data: data)
    }

    /// Encrypts `plaintext`; `context` is authenticated too, so a value cannot be moved to another row.
    public func seal(_ plaintext: some DataProtocol, context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw KeyError.invalidMasterKey }
        return Array(combined)
    }

    /// Decrypts a value made by `seal` with the same `context`.
    public func open(_ sealed: some DataProtocol, context: String) throws -> Data {
        let box = try AES.GCM.SealedBox(combined: Data(sealed))
        return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
    }
}

extension SecretBox {
    /// A key for one purpose (cursor tags, request fingerprints), derived from the master key with
    /// HKDF-SHA256, so no two uses share key material and none exposes the master key.
    public func derivedKey(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }
}
