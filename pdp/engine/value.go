package engine

import (
	"time"

	"github.com/stickypolicy/sticky/policies/xacml"
)

// Value is a typed attribute value (see xacml.Value for its fields).
type Value = xacml.Value

// DataType is a standard XACML data type.
type DataType = xacml.DataType

// String returns an xs:string value.
func String(s string) Value { return Value{Type: xacml.DTString, S: s} }

// AnyURI returns an xs:anyURI value.
func AnyURI(s string) Value { return Value{Type: xacml.DTAnyURI, S: s} }

// Boolean returns an xs:boolean value.
func Boolean(b bool) Value {
	if b {
		return Value{Type: xacml.DTBoolean, I: 1}
	}
	return Value{Type: xacml.DTBoolean}
}

// Integer returns an xs:integer value.
func Integer(i int64) Value { return Value{Type: xacml.DTInteger, I: i} }

// Double returns an xs:double value.
func Double(f float64) Value { return Value{Type: xacml.DTDouble, F: f} }

// DateTime returns an xs:dateTime value with its timezone.
func DateTime(t time.Time) Value { return Value{Type: xacml.DTDateTime, T: t, Z: true} }

// Date returns the xs:date of t (midnight in t's location).
func Date(t time.Time) Value {
	y, m, d := t.Date()
	return Value{Type: xacml.DTDate, T: time.Date(y, m, d, 0, 0, 0, 0, t.Location()), Z: true}
}

// Time returns the xs:time of day of t.
func Time(t time.Time) Value {
	return Value{Type: xacml.DTTime, T: time.Date(1970, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location()), Z: true}
}

// DayTimeDuration returns an xs:dayTimeDuration value.
func DayTimeDuration(d time.Duration) Value {
	return Value{Type: xacml.DTDayTimeDuration, I: int64(d)}
}

// YearMonthDuration returns an xs:yearMonthDuration of the given months.
func YearMonthDuration(months int64) Value {
	return Value{Type: xacml.DTYearMonthDuration, I: months}
}

// RFC822Name returns an rfc822Name (e-mail address) value.
func RFC822Name(s string) Value { return Value{Type: xacml.DTRFC822Name, S: s} }

// X500Name returns an x500Name value.
func X500Name(s string) Value { return Value{Type: xacml.DTX500Name, S: s} }

// IPAddress returns an ipAddress value (lexical form).
func IPAddress(s string) Value { return Value{Type: xacml.DTIPAddress, S: s} }

// DNSName returns a dnsName value (lexical form).
func DNSName(s string) Value { return Value{Type: xacml.DTDNSName, S: s} }

// HexBinary returns an xs:hexBinary value.
func HexBinary(b []byte) Value { return Value{Type: xacml.DTHexBinary, S: string(b)} }

// Base64Binary returns an xs:base64Binary value.
func Base64Binary(b []byte) Value { return Value{Type: xacml.DTBase64Binary, S: string(b)} }

// ParseValue reads a value from its DataType identifier and lexical form.
func ParseValue(dataType, lexical string) (Value, error) {
	t, ok := xacml.LookupDataType(dataType)
	if !ok {
		return Value{}, &typeError{msg: "unknown data type " + dataType}
	}
	return xacml.ParseValue(t, lexical)
}

type typeError struct{ msg string }

func (e *typeError) Error() string { return e.msg }
