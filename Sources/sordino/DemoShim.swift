// SPDX-License-Identifier: GPL-3.0-or-later
// Transitional: DemoCommand (the daemon work, issue 11) still calls `Process.run`; it moves to EngineBlockDriver there.

import Foundation
import SordinoDSP

extension Foundation.Process {
    /// `EngineBlockDriver.enhance` under the name DemoCommand calls; delete when DemoCommand uses the driver.
    static func run(_ engine: inout Engine, on channels: [[Float]], blockSize: Int, flush: Int,
                    progress: ProgressBar?) -> [[Float]] {
        EngineBlockDriver.enhance(&engine, channels, blockLength: blockSize, flush: flush)
    }
}
