// libssh for Swift: the SSH transport (server for viewers and hosts, client for hosts).
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>
