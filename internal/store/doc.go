// Package store is Sticky's embedded SQLite storage: migrations, transactions, and the implementations of the store interfaces that pep and obligations declare.
package store
