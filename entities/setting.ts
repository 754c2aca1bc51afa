import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Install-wide settings created on first run (e.g. the approval-link signing secret). */
@Entity('settings')
export class Setting {
  @PrimaryColumn({ type: 'text' })
  key: string;

  @Column({ type: 'text' })
  value: string;
}
