# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The stub (docs/internals/wire-protocol.md section 1): the command line of every call, encoded by
# the connection's shell plugin. It reads the JSON request from $input, runs the named script with
# its parameters, and writes one JSON answer, ASCII only (every other character a \uXXXX escape:
# ssh consoles use the OEM code page); `exit 0` keeps any native exit code from becoming the rc.
# Constrained Language Mode (WDAC / AppLocker policy) refuses the types the scripts use, deep
# inside them: say so first, with JSON written by hand (nothing here needs FullLanguage).
$mode = [string]$ExecutionContext.SessionState.LanguageMode
if ($mode -ne 'FullLanguage') {
    '{"ok":false,"error":{"message":"PowerShell runs in ' + $mode + ' mode on this host (a WDAC or AppLocker policy): hyperv.nested needs FullLanguage. Allow its scripts in the policy, or connect with an account the policy does not constrain.","category":"SecurityError","id":"LanguageMode"}}'
    exit 0
}
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# The request is parsed by .NET (JavaScriptSerializer, as Ansible.Basic parses module arguments),
# never by a cmdlet: with module logging on (Group Policy), ConvertFrom-Json's InputObject, the whole
# request with its passwords, would be a parameter binding in event 4103. Objects become
# PSCustomObjects and arrays object[], as ConvertFrom-Json makes them (Windows PowerShell 5.1's
# ConvertFrom-Json deserializes with this same class). Short names: the stub is the command line.
[void][Reflection.Assembly]::Load('System.Web.Extensions, Version=4.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35')
function ConvertTo-RequestValue($v) {
    if ($v -is [Collections.IDictionary]) {
        $o = [pscustomobject]@{}
        foreach ($e in $v.GetEnumerator()) { $o.PSObject.Properties.Add([psnoteproperty]::new($e.Key, (ConvertTo-RequestValue $e.Value))) }
        return $o
    }
    if ($v -is [array]) { return , [object[]]@(foreach ($i in $v) { , (ConvertTo-RequestValue $i) }) }
    $v
}
# Its default MaxJsonLength (2,097,152 characters) is far above any request.
$request = ConvertTo-RequestValue ([Web.Script.Serialization.JavaScriptSerializer]::new()).DeserializeObject((@($input) -join "`n"))
try {
    $result = & ([ScriptBlock]::Create($request.script)) $request.parameters
}
catch {
    $result = [ordered]@{
        ok = $false
        error = [ordered]@{
            message = $_.Exception.Message
            category = [string]$_.CategoryInfo.Category
            id = [string]$_.FullyQualifiedErrorId
        }
    }
}
$json = $result | ConvertTo-Json -Depth 20 -Compress
[regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
exit 0
