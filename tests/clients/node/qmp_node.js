// qmp_node.js SOCKET - npm's qemu-qmp (0.5.0) drives minivmm: greeting, status, stop/cont with
// their events, the guest's panic (it prints WAITING when the guest may panic), quit.
'use strict';
const QMP = require('qemu-qmp');

const qmp = new QMP();
function fail(what) {
  console.log('FAIL ' + what);
  process.exit(1);
}
function ok(err) {
  if (err) fail(err.message);
}
setTimeout(() => fail('timeout'), 500000);

qmp.connect(process.argv[2], (err) => {
  ok(err);
  const v = qmp.version;
  console.log('VERSION ' + v.qemu.major + '.' + v.qemu.minor + '.' + v.qemu.micro + ' ' + v.package);
  qmp.execute('query-status', (err, st) => {
    ok(err);
    console.log('STATUS ' + st.status + ' running=' + st.running);
    qmp.once('stop', () => console.log('EVENT STOP'));
    qmp.execute('stop', (err) => {
      ok(err);
      qmp.once('resume', () => console.log('EVENT RESUME'));
      qmp.execute('cont', (err) => {
        ok(err);
        qmp.once('guest_panicked', () => {
          console.log('EVENT GUEST_PANICKED');
          qmp.execute('query-status', (err, st) => {
            ok(err);
            console.log('STATUS ' + st.status + ' running=' + st.running);
            qmp.once('shutdown', () => {
              console.log('EVENT SHUTDOWN');
              console.log('DONE');
              process.exit(0);
            });
            qmp.execute('quit', ok);
          });
        });
        console.log('WAITING');
      });
    });
  });
});
