// SPDX-License-Identifier: GPL-3.0-or-later
// The tests' player/recorder pair (`SordinoJACKRig.JackLoopback`), and a main-loop driver.

import Foundation
@testable import SordinoJACK
@testable import SordinoJACKRig

/// player:out → sordino:in_1, sordino:out_1 → recorder:in; see `JackLoopback`.
typealias LoopbackRig = JackLoopback

/// Drives the host's main loop (`service()`) until `condition` holds or `timeout` passes.
@discardableResult
func serviceUntil(_ host: JackHost, timeout: Duration, tick: Duration = .milliseconds(10),
                  _ condition: () -> Bool) throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        try host.service()
        if condition() { return true }
        Thread.sleep(forTimeInterval: Double(tick.components.attoseconds) * 1e-18 + Double(tick.components.seconds))
    }
    try host.service()
    return condition()
}
