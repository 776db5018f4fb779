// SPDX-License-Identifier: GPL-3.0-or-later
// The objective the activation solve never increases, in double precision: for tests and diagnostics.

extension ActivationSolver {
    /// D_β(v | W·h + ε) + Σₖ λₖ hₖ in double precision: the quantity `solve` never increases.
    /// Not real-time safe (for tests and diagnostics).
    public func objective(_ v: UnsafePointer<Float>, activations h: UnsafePointer<Float>) -> Double {
        let divergence = beta
        var total = 0.0
        for f in 0..<binCount {
            var model = 0.0
            for k in 0..<activationStride { model += Double(basisRows[f * activationStride + k]) * Double(h[k]) }
            total += divergence.value(data: Double(v[f]), model: model)
        }
        for k in 0..<activationStride { total += Double(penalties[k]) * Double(h[k]) }
        return total
    }
}
