/** The console's words for separation of duties (issue 20), merged into the dictionary of i18n.tsx. */
export const separationJa = {
  sodTitle: '職務分離のルール',
  sodLead: '次の組み合わせは同じ人が持てません。申請時と承認時に確認し、該当すれば理由を示して拒否します。どのルールを適用するかは運用の方針で設定します。',
  sodRule: 'ルール',
  sodPermissions: '権限の組み合わせ',
  sodReason: '理由',
  sodEnforced: '適用',
  sodOn: '適用中',
  sodOff: '適用しない',
  sodPairRule: '両立しない権限',
  sodReciprocalRule: '相互承認（{days}日以内）',
  sodReciprocalPermissions: 'AさんがBさんの権限を承認した後、BさんがAさんの権限を承認すること',
  rule_incompatible_permissions: '職務分離：この人がすでに持つ（または申請中の）権限と両立しない権限です',
  rule_reciprocal_approval: '職務分離：相互承認です（この人があなたの権限を承認してから期間内のため、別の承認者が承認します）',
};

export const separationEn: Readonly<Record<keyof typeof separationJa, string>> = {
  sodTitle: 'Separation of duties',
  sodLead:
    'One person may not hold these together. They are checked at request and at approval, and a refusal says which and why. Which rules are enforced is set by policy.',
  sodRule: 'Rule',
  sodPermissions: 'Permissions',
  sodReason: 'Why',
  sodEnforced: 'Enforced',
  sodOn: 'enforced',
  sodOff: 'not enforced',
  sodPairRule: 'Incompatible permissions',
  sodReciprocalRule: 'Reciprocal approval (within {days} days)',
  sodReciprocalPermissions: 'B approving a grant to A after A approved one to B',
  rule_incompatible_permissions: 'Separation of duties: incompatible with a permission this person holds (or has asked for)',
  rule_reciprocal_approval:
    'Separation of duties: a reciprocal approval (this person approved a grant of yours within the period; another approver must decide)',
};
