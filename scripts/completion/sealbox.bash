# bash completion for sealbox(1); source it, or install it as
# /usr/share/bash-completion/completions/sealbox.
# Options are read from 'sealbox COMMAND --help', so they never go stale.

_sealbox_options() {
    "${1:-sealbox}" "${@:2}" --help 2>/dev/null |
        grep -oE -- '(^|[[ ])--[a-z][a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u
}

_sealbox() {
    local cur prev words cword cmd i
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    }
    local commands="backup restore snapshots prune verify mount umount keys ls find diff"

    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --config) ((i++)) ;;
        --config=* | --no-config) ;;
        -*) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done

    case $prev in
    --config | --archive-dir | --secret-key | --secret-out | --ssh-key | --known-hosts | \
        --log-file | --sign-passphrase-file | --cache-dir | --index-dir)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --target)
        COMPREPLY=($(compgen -d -P file:// -- "${cur#file://}") $(compgen -W "sftp://" -- "$cur"))
        return ;;
    --encrypt-key | --sign-key)
        COMPREPLY=($(compgen -W "$(gpg --batch --with-colons --list-keys 2>/dev/null |
            awk -F: '$1 == "fpr" { print $10 }')" -- "$cur"))
        return ;;
    --volsize | --compress-level | --keep-chains | --cache-size | --older-than | --full-if-older-than | --time | \
        --path | --name | --expire)
        return ;;
    --algo)
        COMPREPLY=($(compgen -W "ed25519 rsa3072 rsa4096" -- "$cur"))
        return ;;
    esac

    if [ -z "${cmd:-}" ]; then
        COMPREPLY=($(compgen -W "$commands --config --no-config --help --version" -- "$cur"))
        return
    fi
    if [ "$cmd" = keys ] && [ "$cword" -le $((i + 1)) ]; then
        COMPREPLY=($(compgen -W "create check" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        local sub=()
        [ "$cmd" = keys ] && sub=("${words[i + 1]}")
        COMPREPLY=($(compgen -W "$(_sealbox_options "${words[0]}" "$cmd" "${sub[@]}")" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -d -- "$cur"))
}
complete -F _sealbox sealbox
