"""What is promised about the data: the audit trail (`audit`, its heads outside the database in
`heads`), locks (`locking`), read-only access for readers (`readonly`), who may do what (`roles`,
names compared with `confusables`), publishing snapshots (`publish`), the import accounting
(`invariants`) and the migration of older homes (`migrate`)."""
