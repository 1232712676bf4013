package sms

// DefaultRate is how many SMS a second the sender sends when the configuration sets none
// (AFKAR_SMS_RATE): Kavenegar documents no limit, and five a second drains a morning's queue of
// visits (thousands) in minutes without tripping its back-pressure.
const DefaultRate = 5.0
