// SPDX-License-Identifier: GPL-3.0-or-later
// Eight streams' vectors to and from lanes (`sordino_to_lanes`, `sordino_from_lanes`): every element in its place, absent streams zero or untouched; eight columns out of longer rows.

import CEngineKernels
import Testing

struct LaneTransposeTests {
    /// Lengths around the 8 × 8 blocks (a tail only, whole blocks, blocks and a tail) and patterns
    /// of absent streams from none to all but one.
    @Test(arguments: [1, 7, 8, 9, 16, 23, 136, 250])
    func everyElementGoesToItsLaneAndBack(count: Int) {
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: 8 * count)
        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 8 * count)
        let chosen = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: 8)
        defer { storage.deallocate(); lanes.deallocate(); chosen.deallocate() }
        func value(_ l: Int, _ i: Int) -> Float { Float(1000 * (l + 1) + i) }
        for pattern in [0b0000_0000, 0b1000_0000, 0b0000_0001, 0b0101_0110, 0b1111_1110] {
            let absent = (0..<8).map { pattern & (1 << $0) != 0 }
            for l in 0..<8 {
                for i in 0..<count { storage[l * count + i] = value(l, i) }
                chosen[l] = absent[l] ? nil : storage + l * count
            }
            lanes.initialize(repeating: -1, count: 8 * count)
            sordino_to_lanes(chosen, Int32(count), lanes)
            for i in 0..<count {
                for l in 0..<8 { #expect(lanes[8 * i + l] == (absent[l] ? 0 : value(l, i))) }
            }
            // Back: the lanes negated land in the present columns; the absent keep their values.
            for j in 0..<(8 * count) { lanes[j] = -lanes[j] }
            sordino_from_lanes(lanes, 8, Int32(count), chosen)
            for l in 0..<8 {
                for i in 0..<count { #expect(storage[l * count + i] == value(l, i) * (absent[l] ? 1 : -1)) }
            }
        }
    }

    /// Eight columns out of rows of 11 floats (as W's online atoms' slots are copied into Wᵀ):
    /// each row's first eight floats, the rest never read into a column.
    @Test(arguments: [7, 8, 250])
    func eightColumnsOutOfLongerRows(count: Int) {
        let rowLength = 11
        let rows = (0..<(rowLength * count)).map { Float($0) }
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: 8 * count)
        let chosen = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: 8)
        defer { storage.deallocate(); chosen.deallocate() }
        storage.initialize(repeating: -1, count: 8 * count)
        for l in 0..<8 { chosen[l] = l == 5 ? nil : storage + l * count }
        sordino_from_lanes(rows, Int32(rowLength), Int32(count), chosen)
        for l in 0..<8 {
            for i in 0..<count { #expect(storage[l * count + i] == (l == 5 ? -1 : Float(rowLength * i + l))) }
        }
    }
}
