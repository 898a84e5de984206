extension NexmarkGenerator {
    /// The byte count the reference charges a person for its id (the other fields count their bytes).
    static let personFixedByteCount = 8
    /// "dddd dddd dddd dddd".
    static let creditCardByteCount = 19
    /// The longest e-mail address: words of at most 6 and 4 letters, '@' and ".com". At 15 bytes or
    /// fewer a String is stored inline, without an allocation.
    static let emailByteCountMax = 6 + 1 + 4 + 4

    func person(at eventNumber: Int64, dateTime: Int64, random: inout NexmarkRandom) -> Person {
        let id = Self.lastPersonIndex(atEventNumber: eventNumber) + Self.firstPersonId
        let first = random.nextInt(below: NexmarkVocabulary.firstNames.count)
        let last = random.nextInt(below: NexmarkVocabulary.lastNames.count)
        let name = self.tables.fullNames[first * NexmarkVocabulary.lastNames.count + last]
        let email = Self.emailAddress(&random)
        let creditCard = Self.creditCard(&random)
        let city = NexmarkVocabulary.usCities[random.nextInt(below: NexmarkVocabulary.usCities.count)]
        let state = NexmarkVocabulary.usStates[random.nextInt(below: NexmarkVocabulary.usStates.count)]
        let fieldByteCount =
            Self.personFixedByteCount + name.utf8.count + email.utf8.count + creditCard.utf8.count
            + city.utf8.count + state.utf8.count
        let extra = self.extra(
            fieldByteCount: fieldByteCount, averageByteCount: self.config.averagePersonByteCount, random: &random)
        return Person(
            id: id, name: name, emailAddress: email, creditCard: creditCard, city: city, state: state,
            dateTime: dateTime, extra: extra)
    }

    /// A word of up to 6 letters, '@', a word of up to 4, ".com".
    private static func emailAddress(_ random: inout NexmarkRandom) -> String {
        String(unsafeUninitializedCapacity: Self.emailByteCountMax) { buffer in
            let base = buffer.baseAddress!
            var count = random.writeWord(lengthLimit: 7, special: UInt8(ascii: " "), to: base)
            base[count] = UInt8(ascii: "@")
            count += 1
            count += random.writeWord(lengthLimit: 5, special: UInt8(ascii: " "), to: base + count)
            for byte in ".com".utf8 {
                base[count] = byte
                count += 1
            }
            return count
        }
    }

    /// Four groups of four uniform digits.
    private static func creditCard(_ random: inout NexmarkRandom) -> String {
        String(unsafeUninitializedCapacity: Self.creditCardByteCount) { buffer in
            var index = 0
            for group in 0..<4 {
                if group > 0 {
                    buffer[index] = UInt8(ascii: " ")
                    index += 1
                }
                var value = random.nextInt(below: 10_000)
                for position in (0..<4).reversed() {
                    buffer[index + position] = UInt8(ascii: "0") &+ UInt8(value % 10)
                    value /= 10
                }
                index += 4
            }
            return index
        }
    }

    /// Random letters so that `fieldByteCount` plus them averages `averageByteCount`, cut from the
    /// seed's pool.
    func extra(fieldByteCount: Int, averageByteCount: Int, random: inout NexmarkRandom) -> String {
        let byteCount = random.extraByteCount(currentByteCount: fieldByteCount, averageByteCount: averageByteCount)
        guard byteCount > 0 else { return "" }
        let pool = self.tables.extraPool
        let start = random.nextInt(below: pool.count - byteCount + 1)
        return pool.withUnsafeBufferPointer { bytes in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<start + byteCount]), as: UTF8.self)
        }
    }
}
