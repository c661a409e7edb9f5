import CArgon2
import Testing

@testable import Auth

/// The decoy hash answers a sign-in for an unknown email: it must be a hash argon2 really computes
/// against (a decoding error would answer in microseconds and tell which emails exist), and match nothing.
@Suite struct DecoyHashTests {
    @Test func theDecoyIsAWellFormedHashThatNothingMatches() throws {
        let parameters = PasswordHasher.Parameters(memoryKiB: 1024, iterations: 1)
        let decoy = PasswordHasher.decoyHash(parameters: parameters)
        let real = try PasswordHasher.hashBlocking("hunter2", parameters: parameters)
        #expect(decoy.split(separator: "$").count == real.split(separator: "$").count)
        #expect(decoy.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        for password in ["hunter2", "", "correct horse battery"] {
            let bytes = Array(password.utf8)
            #expect(argon2id_verify(decoy, bytes, bytes.count) == ARGON2_VERIFY_MISMATCH.rawValue)
        }
        #expect(PasswordHasher.decoyHash(parameters: parameters) != decoy)
    }
}
