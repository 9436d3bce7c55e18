#!/bin/sh
# Recreate the mutt-*.eml samples in this folder: Debian's mutt composes each message in batch mode
# (stdin is not a terminal) and hands it to a stand-in "sendmail" that only writes it to a file.
# Nothing is sent. Needs: apt-get install -y mutt (the samples were made with Mutt 2.2.12).
# The subjects and file names typed here are the ones tests/test_decode.py expects.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/files" "$work/mail"

cat > "$work/save.sh" <<'SH'
#!/bin/sh
cat > "$MUTT_OUT"
SH
chmod +x "$work/save.sh"

# compose OUT SEND_CHARSET REALNAME SUBJECT ATTACHMENT_NAME
compose() {
    out=$1 send_charset=$2 realname=$3 subject=$4 attachment=$5
    cat > "$work/muttrc" <<RC
set charset="utf-8"
set send_charset="$send_charset"
set sendmail="$work/save.sh"
set realname="$realname"
set from="sender@example.org"
set use_from=yes
set hostname="example.org"
set user_agent=yes
set record=""
set folder="$work/mail"
set spoolfile="$work/mail/inbox"
set postponed="$work/mail/postponed"
RC
    printf '各位好：\n附件是报名表，请查收。\n' > "$work/body.txt"
    printf '姓名,单位\n' > "$work/files/$attachment"
    HOME=$work LANG=C.UTF-8 LC_ALL=C.UTF-8 MUTT_OUT="$here/$out" \
        mutt -n -F "$work/muttrc" -s "$subject" -a "$work/files/$attachment" -- units@example.org \
        < "$work/body.txt"
}

compose mutt-gb2312.eml "gb2312" "西宁市总工会" \
    "回复：西宁市总工会+线下活动汇总（6月）" "西宁市总工会线下活动汇总表.csv"
compose mutt-gbk-middot.eml "gbk" "才让·多杰" \
    "才让·多杰：海东市总工会 线下活动报名" "才让·多杰 报名表.csv"
# gb2312 cannot encode U+00B7, so mutt falls back to UTF-8 here, and it cuts 市 (E5 B8 82) in two
# between the first and the second encoded-word of the Subject.
compose mutt-split-utf8.eml "gb2312" "才让·多杰" \
    "才让·多杰：海东市总工会 线下活动报名" "才让·多杰 报名表.csv"
compose mutt-gb18030.eml "gb2312:gb18030" "张喆" \
    "答复: 张喆、王堃、朱镕 报名（格尔木市总工会）" "张喆-王堃-朱镕 报名表.csv"
compose mutt-utf8.eml "utf-8" "玉树藏族自治州总工会" \
    "Fwd: 转发：玉树藏族自治州总工会关于开展“职工书屋”线下读书分享活动的报名材料汇总（第二批，共十二个单位）" \
    "玉树藏族自治州总工会职工书屋线下读书分享活动报名材料汇总表（第二批）.csv"

chmod 644 "$here"/mutt-*.eml  # mutt writes with umask 077
