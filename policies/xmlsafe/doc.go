// Package xmlsafe loads XML documents defensively (size and depth limits, no
// DTDs, no entity expansion, no external fetches) and reports validation
// problems that name the element, attribute, value and line at fault.
package xmlsafe
