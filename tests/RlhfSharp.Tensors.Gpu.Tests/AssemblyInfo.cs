// Transfer counts (DeviceTransfers) are process-wide, and the tests that check them must not see
// another test's copies: the device tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
