// A small thread-safe memo of the t and χ² quantiles that the inference asks for again and again.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The quantiles of ``StudentT`` and ``ChiSquared`` remembered by (distribution, degrees of
/// freedom, probability): a fit at level 0.95 on k studies needs t₀.₉₇₅,ₖ₋₁ for its interval and
/// its prediction interval and χ²ₖ₋₁ at 0.025 and 0.975 for the Q-profile, and a batch of
/// analyses needs the same few values thousands of times. Each quantile is a root search over the
/// incomplete beta or gamma function (microseconds); a hit here is a hash and a lock.
///
/// The value stored is the value the root search returned, so a hit gives bit for bit the number
/// a miss computes. A fixed table of 256 slots (direct-mapped on a hash of the key, a newer key
/// replaces an older one in its slot), so its memory is bounded whatever the inputs; one mutex,
/// held only to read or write a slot, never during a root search, so the batch engine's tasks can
/// share it.
final class QuantileCache: @unchecked Sendable {
    /// Which function of which distribution a slot holds.
    enum Kind: UInt8 {
        case studentTQuantile = 1, studentTSurvivalQuantile, chiSquaredQuantile, chiSquaredSurvivalQuantile
    }

    static let shared = QuantileCache()

    private static let slotCount = 256
    private struct Slot {
        var kind: UInt8 = 0  // 0: empty
        var degreesOfFreedom: UInt64 = 0
        var probability: UInt64 = 0
        var value = 0.0
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    private init() {
        slots = .allocate(capacity: Self.slotCount)
        slots.initialize(repeating: Slot(), count: Self.slotCount)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    /// The memoized `compute()` for this key; `compute` runs outside the lock on a miss.
    @inline(__always)
    func value(_ kind: Kind, degreesOfFreedom: Double, probability: Double, compute: () -> Double) -> Double {
        let df = degreesOfFreedom.bitPattern, p = probability.bitPattern
        // A multiplicative (Fibonacci) hash of the three words; the top 8 bits pick the slot.
        let mixed = (df &* 0x9E37_79B9_7F4A_7C15) ^ (p &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(kind.rawValue) &* 0x1656_67B1_9E37_79F9)
        let index = Int(truncatingIfNeeded: ((mixed ^ (mixed >> 29)) &* 0x9E37_79B9_7F4A_7C15) >> 56)
        pthread_mutex_lock(mutex)
        let slot = slots[index]
        pthread_mutex_unlock(mutex)
        if slot.kind == kind.rawValue && slot.degreesOfFreedom == df && slot.probability == p { return slot.value }
        let result = compute()
        pthread_mutex_lock(mutex)
        slots[index] = Slot(kind: kind.rawValue, degreesOfFreedom: df, probability: p, value: result)
        pthread_mutex_unlock(mutex)
        return result
    }
}
