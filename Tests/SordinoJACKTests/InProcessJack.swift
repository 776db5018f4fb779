// SPDX-License-Identifier: GPL-3.0-or-later
// The suite trait that runs a suite opening JACK clients in the test process inside `InProcessJackGate`.

import Testing
import TestSupport

/// `.inProcessJack`: the whole suite runs while no other suite of the process has JACK clients open.
struct InProcessJack: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        await InProcessJackGate.shared.acquire()
        do {
            try await function()
        } catch {
            await InProcessJackGate.shared.release()
            throw error
        }
        await InProcessJackGate.shared.release()
    }
}

extension Trait where Self == InProcessJack {
    static var inProcessJack: Self { InProcessJack() }
}
