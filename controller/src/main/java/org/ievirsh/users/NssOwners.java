package org.ievirsh.users;

import java.nio.file.Path;
import java.util.Optional;
import org.ievirsh.posix.Nss;

/** NssOwners resolves a directory's owner through NSS: files, LDAP, whatever the machine uses. */
public final class NssOwners implements OwnerResolver {

    @Override
    public Optional<Owner> resolve(Path directory, int uid) {
        return Nss.byUid(uid)
                .filter(account -> Owner.isValidName(account.name()))
                .map(account -> new Owner(account.name(), uid, account.gid(), Nss.groupsOf(account), uid,
                        account.gid()));
    }
}
