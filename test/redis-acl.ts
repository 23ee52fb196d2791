/** The README's minimal ACL for the default prefix, with `WAIT` for `minReplicas`. */
export const MINIMAL_ACL = [
  'resetkeys', 'resetchannels', '-@all', '~jwt-session:*', '&jwt-session:revoked',
  '+eval', '+get', '+set', '+mget', '+incr', '+decr', '+pexpire', '+pttl', '+time',
  '+xadd', '+xrange', '+xrevrange', '+scan', '+publish', '+subscribe', '+info', '+wait'
]
