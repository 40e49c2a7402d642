// Package xacml is the XACML 3.0 / 2.0 policy model: Policy and PolicySet
// trees parsed from XML (3.0 AnyOf/AllOf/Match and 2.0 Subjects/Resources/
// Actions/Environments syntax), validated and serialized back.
package xacml
