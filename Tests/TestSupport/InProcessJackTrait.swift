// SPDX-License-Identifier: GPL-3.0-or-later
// The suite trait that runs a suite opening JACK clients in the test process inside `InProcessJackGate`.

import Testing

/// `.inProcessJack`: the whole suite runs while no other suite of the process has JACK clients open.
public struct InProcessJack: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public init() {}

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
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
    public static var inProcessJack: Self { InProcessJack() }
}
